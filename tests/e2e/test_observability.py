"""Observability, as an operator meets it: each service's Prometheus metrics move when requests
are made, the gateway's stats are reachable, and one checkout can be followed through the JSON
logs (and audit events) of all three services by its transaction id and request id."""

import json
import pathlib
import re
import time
from collections.abc import Callable

import grpc
import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from shop.order.v1 import order_pb2, order_pb2_grpc
from shoptools.devstack import SERVICES, Stack, banner

from .helpers import Shop, assert_refused, log_records, ok
from .kafka_helpers import read_audit, wait_until

pytestmark = pytest.mark.e2e

STOCK = "shop.stock.v1.StockService"
ORDER = "shop.order.v1.OrderService"
Samples = dict[tuple[str, frozenset], float]


def scrape(stack: Stack, service: str) -> Samples:
    url = stack.config.metrics_url(service)
    assert url, f"{service} serves no metrics"
    answer = httpx.get(url, timeout=10)
    assert answer.status_code == 200, answer.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def handled(samples: Samples, service: str, method: str, code: str) -> float:
    labels = {"grpc_service": service, "grpc_method": method, "grpc_code": code}
    return value(samples, "grpc_server_handled_total", **labels)


def timed(samples: Samples, service: str, method: str, code: str) -> float:
    labels = {"grpc_service": service, "grpc_method": method, "grpc_code": code}
    return value(samples, "grpc_server_handling_seconds_count", **labels)


def outcomes(samples: Samples, reason: str) -> float:
    return value(samples, "shop_checkout_outcomes_total", reason=reason)


def order_for(shop: Shop, stock: int, credit: int, quantity: int = 1) -> str:
    item = shop.create_item(price=3, stock=stock)
    order = shop.create_order(shop.create_user(credit=credit))
    shop.add_item(order, item, quantity)
    return order


# --- metrics -----------------------------------------------------------------------------------


def test_request_counts_and_latencies_move_by_method_and_status(stack: Stack, shop: Shop):
    before = scrape(stack, "stock")
    item = shop.create_item(price=2, stock=1)
    assert_refused(shop.http.post(f"/stock/subtract/{item}/5"), 400, "INSUFFICIENT_STOCK")
    after = scrape(stack, "stock")

    for method, code in [("CreateItem", "OK"), ("AddStock", "OK")]:
        assert handled(after, STOCK, method, code) == handled(before, STOCK, method, code) + 1
        assert timed(after, STOCK, method, code) == timed(before, STOCK, method, code) + 1
    refused_before = handled(before, STOCK, "SubtractStock", "FAILED_PRECONDITION")
    assert handled(after, STOCK, "SubtractStock", "FAILED_PRECONDITION") == refused_before + 1


def test_checkout_outcomes_are_counted_by_reason(stack: Stack, shop: Shop):
    paid = order_for(shop, stock=5, credit=10)
    out_of_stock = order_for(shop, stock=1, credit=10, quantity=2)
    before = scrape(stack, "order")
    ok(shop.http.post(f"/orders/checkout/{paid}"))
    refusal = shop.http.post(f"/orders/checkout/{out_of_stock}")
    assert_refused(refusal, 400, "INSUFFICIENT_STOCK")
    after = scrape(stack, "order")

    assert outcomes(after, "OK") == outcomes(before, "OK") + 1
    assert outcomes(after, "INSUFFICIENT_STOCK") == outcomes(before, "INSUFFICIENT_STOCK") + 1
    ok_calls = handled(before, ORDER, "Checkout", "OK")
    assert handled(after, ORDER, "Checkout", "OK") == ok_calls + 1
    refusals = handled(before, ORDER, "Checkout", "FAILED_PRECONDITION")
    assert handled(after, ORDER, "Checkout", "FAILED_PRECONDITION") == refusals + 1


def test_every_service_reports_its_backlog_reservations_and_recovery(stack: Stack):
    for service in SERVICES:
        samples = scrape(stack, service)
        assert value(samples, "shop_outbox_backlog", service=service) >= 0
        assert ("shop_outbox_backlog", frozenset({("service", service)})) in samples
        actions = {
            dict(labels)["action"]
            for name, labels in samples
            if name == "shop_recovery_actions_total" and dict(labels)["service"] == service
        }
        assert actions, f"{service} reports no recovery actions"
        held = ("shop_reservations_held", frozenset({("service", service)}))
        assert (held in samples) == (service != "order"), service
        # Process metrics come with the client library.
        assert any(name == "process_cpu_seconds_total" for name, _ in samples)


def test_the_outbox_backlog_shows_events_waiting_for_kafka_even_after_a_restart(
    own_stack: Stack, own_shop: Shop
):
    own_stack.stop_process("kafka")
    before = value(scrape(own_stack, "stock"), "shop_outbox_backlog", service="stock")
    own_shop.create_item(price=1, stock=3)  # two events: created, stock added
    waiting = value(scrape(own_stack, "stock"), "shop_outbox_backlog", service="stock")
    assert waiting == before + 2

    own_stack.restart_service("stock")
    restarted = scrape(own_stack, "stock")
    assert value(restarted, "shop_outbox_backlog", service="stock") == waiting


def test_the_gateways_own_stats_are_reachable(stack: Stack, shop: Shop):
    shop.create_item(price=1)
    answer = httpx.get(stack.config.envoy_stats_url, timeout=10)
    assert answer.status_code == 200
    families = {family.name for family in text_string_to_metric_families(answer.text)}
    assert "envoy_cluster_upstream_rq" in families
    for service in SERVICES:
        assert f'envoy_cluster_name="{service}"' in answer.text


def test_the_local_run_says_where_metrics_and_stats_are(stack: Stack):
    printed = banner(stack.config, stack)
    for service in SERVICES:
        assert stack.config.metrics_url(service) in printed
    assert stack.config.envoy_stats_url in printed


# --- following one checkout --------------------------------------------------------------------


MONITORING = pathlib.Path(__file__).resolve().parents[2] / "k8s" / "monitoring"
# Metric names in PromQL, once label matchers and grouping clauses are taken out.
METRIC = re.compile(r"\b((?:shop|grpc|envoy)_[a-z0-9_]+)\b")
LABELS = re.compile(r"\{[^}]*\}|\b(?:by|without)\s*\([^)]*\)")


def monitored() -> set[str]:
    """Every metric the committed dashboard's panels and alert rules name."""
    dashboard = json.loads((MONITORING / "dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    groups = yaml.safe_load((MONITORING / "alerts.yaml").read_text())["groups"]
    exprs += [rule["expr"] for group in groups for rule in group["rules"]]
    return {name for expr in exprs for name in METRIC.findall(LABELS.sub(" ", expr))}


def exposed(text: str) -> set[str]:
    """The sample names of an exposition as Prometheus stores them: as written (a client
    library's parser would add `_total` to Envoy's counters, Prometheus does not)."""
    return {
        re.split(r"[{ ]", line, maxsplit=1)[0] for line in text.splitlines() if line[:1].isalpha()
    }


def test_every_metric_the_dashboard_and_alerts_name_is_served_by_the_running_stack(
    stack: Stack, shop: Shop
):
    item = shop.create_item(price=1, stock=2)
    order = shop.create_order(shop.create_user(credit=5))
    shop.add_item(order, item, 1)
    ok(shop.http.post(f"/orders/checkout/{order}"))
    urls = [stack.config.metrics_url(service) for service in SERVICES]
    served: set[str] = set()
    for url in [*urls, stack.config.envoy_stats_url]:
        answer = httpx.get(url, timeout=10)
        assert answer.status_code == 200, url
        served |= exposed(answer.text)
    named = monitored()
    assert {"shop_reservation_oldest_held_seconds", "envoy_cluster_membership_healthy"} <= named
    assert named <= served, f"named by a panel or rule, served by nothing: {named - served}"


def names_txn(line: dict, txn_id: str) -> bool:
    """The line is about the transaction: its own, or one of its batch's."""
    return line.get("txn_id") == txn_id or txn_id in line.get("txn_ids", ())


def lines_naming(stack: Stack, service: str, txn_id: str = "", **fields: str) -> list[dict]:
    return [
        line
        for line in log_records(stack, service)
        if (not txn_id or names_txn(line, txn_id))
        and all(line.get(key) == wanted for key, wanted in fields.items())
    ]


def checkout_line(stack: Stack, order_id: str) -> Callable[[], dict | None]:
    def find() -> dict | None:
        for line in log_records(stack, "order"):
            if line.get("logger") == "order_svc.api" and order_id in line.get("message", ""):
                return line
        return None

    return find


def follow(stack: Stack, order_id: str) -> tuple[dict, dict[str, list[dict]]]:
    """The order service's line about the checkout, and each service's lines naming its
    transaction and request."""
    decision = wait_until(checkout_line(stack, order_id), f"order logs checkout of {order_id}")
    ids = {"txn_id": decision["txn_id"], "request_id": decision["request_id"]}
    lines = {
        service: wait_until(
            lambda service=service: lines_naming(stack, service, **ids),
            f"{service} logs {ids}",
            timeout_s=10,
        )
        for service in SERVICES
    }
    return decision, lines


def test_one_checkout_is_followed_through_every_service_log_and_its_events(
    own_stack: Stack, own_shop: Shop
):
    order = order_for(own_shop, stock=5, credit=10)
    response = own_shop.http.post(f"/orders/checkout/{order}")
    answer = ok(response)
    decision, lines = follow(own_stack, order)

    # The gateway tells the client its request id: the one every service logged.
    assert response.headers["x-request-id"] == decision["request_id"]
    assert decision["service"] == "order"
    assert decision["level"] == "INFO"
    assert decision["message"].endswith(": OK")
    assert decision["txn_id"] == answer["transaction_id"]
    assert {line["service"] for service in SERVICES for line in lines[service]} == set(SERVICES)
    for participant in ("stock", "payment"):
        # The reservation call, logged by the participant for this request.
        assert any("Reserve" in line.get("rpc", "") for line in lines[participant]), participant

    # The audit events the request made name it too.
    made_by_request = {"checkout_started", "stock_reserved", "credit_reserved"}

    def events_of_checkout() -> list:
        events = [
            event
            for event in read_audit(own_stack)
            if event.transaction_id == decision["txn_id"]
            and event.WhichOneof("change") in made_by_request
        ]
        return events if {e.WhichOneof("change") for e in events} == made_by_request else []

    events = wait_until(events_of_checkout, "the checkout's events in the audit topic")
    assert {event.request_id for event in events} == {decision["request_id"]}


def test_a_refused_checkout_is_followed_too(stack: Stack, shop: Shop):
    order = order_for(shop, stock=1, credit=100, quantity=3)
    assert_refused(shop.http.post(f"/orders/checkout/{order}"), 400, "INSUFFICIENT_STOCK")
    decision, lines = follow(stack, order)

    assert decision["message"].endswith(": INSUFFICIENT_STOCK")
    assert any("Reserve" in line.get("rpc", "") for line in lines["stock"])


def test_a_request_id_sent_to_a_service_directly_is_logged_there(stack: Stack):
    """grpcurl-style calls without the gateway: the service takes the caller's x-request-id."""
    request_id = f"direct-{time.time_ns()}"
    with grpc.insecure_channel(stack.config.service_addrs["order"]) as channel:
        stub = order_pb2_grpc.OrderServiceStub(channel)
        request = order_pb2.GetCheckoutOutcomeRequest(transaction_id=f"txn-{request_id}")
        stub.GetCheckoutOutcome(request, timeout=10, metadata=(("x-request-id", request_id),))
    [line] = wait_until(
        lambda: lines_naming(stack, "order", request_id=request_id), "order logs the call"
    )
    assert line["txn_id"] == f"txn-{request_id}"
    assert line["rpc"] == f"/{ORDER}/GetCheckoutOutcome"
    assert line["code"] == "OK"
