"""The gateway's stats listener, as Prometheus and an attacker meet it: `GET /stats/prometheus`
answers Envoy's stats, with its query string; every other request is refused by Envoy itself,
never reaches the admin (/quitquitquit, /logging, /config_dump ...), and Envoy keeps serving.
Scrapes still work while client connections are at the gateway's limit."""

import http.client
import socket

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shoptools.devstack import Stack

from .helpers import Shop, ok

pytestmark = pytest.mark.e2e

STATS_PATH = "/stats/prometheus"
# Each sent as written (http.client does not resolve `..` or decode escapes).
REFUSED = [
    ("POST", "/quitquitquit", 404),
    ("GET", "/quitquitquit", 404),
    ("POST", "/drain_listeners", 404),
    ("POST", "/logging?level=trace", 404),
    ("POST", "/healthcheck/fail", 404),
    ("GET", "/", 404),
    ("GET", "/stats", 404),
    ("GET", "/config_dump", 404),
    ("GET", "/stats/prometheus/", 404),
    ("GET", "/stats/prometheus/../../quitquitquit", 404),
    ("POST", "/stats/prometheus/../../quitquitquit", 404),
    ("GET", "/stats/./prometheus", 404),
    ("GET", "/stats%2Fprometheus", 404),
    ("GET", "//stats/prometheus", 404),
    ("POST", STATS_PATH, 405),
    ("PUT", STATS_PATH, 405),
    ("DELETE", STATS_PATH, 405),
    ("HEAD", STATS_PATH, 405),
]


def host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def send(address: str, method: str, path: str) -> tuple[int, dict[str, str], str]:
    """One request exactly as given: status, headers (lower-case names) and body."""
    connection = http.client.HTTPConnection(*host_port(address), timeout=10)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, body
    finally:
        connection.close()


def families(text: str) -> set[str]:
    return {family.name for family in text_string_to_metric_families(text)}


def forwarded_to_admin(stack: Stack) -> int:
    """Requests the stats listener has passed to the admin so far, as the admin itself says."""
    filter_ = r"^cluster\.envoy_admin\.upstream_rq_total$"
    answer = httpx.get(f"http://{stack.config.admin_addr}/stats", params={"filter": filter_})
    [line] = answer.text.splitlines()
    return int(line.rpartition(":")[2])


def test_the_stats_listener_serves_envoys_stats_in_prometheus_format(stack: Stack, shop: Shop):
    shop.create_item(price=1)
    status, headers, body = send(stack.config.stats_addr, "GET", STATS_PATH)
    assert status == 200, body
    assert headers["content-type"].startswith("text/plain")
    assert {"envoy_cluster_upstream_rq", "envoy_http_downstream_rq"} <= families(body)
    assert 'envoy_http_conn_manager_prefix="rest"' in body
    assert stack.config.envoy_stats_url == f"http://{stack.config.stats_addr}{STATS_PATH}"


def test_the_query_string_reaches_the_admin(stack: Stack):
    only = r"^cluster\.stock\."
    answer = httpx.get(stack.config.envoy_stats_url, params={"filter": only}, timeout=10)
    assert answer.status_code == 200, answer.text
    samples = [line for line in answer.text.splitlines() if line and not line.startswith("#")]
    assert samples and all('envoy_cluster_name="stock"' in line for line in samples)
    used_only = httpx.get(f"{stack.config.envoy_stats_url}?usedonly", timeout=10)
    assert used_only.status_code == 200
    assert "envoy_cluster_upstream_rq" in families(used_only.text)


def test_nothing_else_of_the_admin_is_reachable_and_envoy_keeps_serving(stack: Stack, shop: Shop):
    forwarded = forwarded_to_admin(stack)
    answers = {
        (method, path): send(stack.config.stats_addr, method, path) for method, path, _ in REFUSED
    }

    wrong = [
        f"{method} {path} -> {answers[method, path][0]}, expected {status}"
        for method, path, status in REFUSED
        if answers[method, path][0] != status
    ]
    assert not wrong, "\n".join(wrong)
    for (method, _), (status, headers, _) in answers.items():
        if status == 405:
            assert headers.get("allow") == "GET", method
    assert forwarded_to_admin(stack) == forwarded, "a refused request reached the admin"
    # Envoy is still up and the gateway answers.
    assert "envoy" not in stack.exited()
    assert httpx.get(f"http://{stack.config.admin_addr}/ready", timeout=10).status_code == 200
    ok(shop.http.get(f"/stock/find/{shop.create_item(price=2)}"))
    assert send(stack.config.stats_addr, "GET", STATS_PATH)[0] == 200


def refused_at_once(address: str) -> bool:
    """A new connection is closed by the gateway without an answer."""
    with socket.create_connection(host_port(address), timeout=10) as extra:
        try:
            extra.sendall(b"GET /stock/find/x HTTP/1.1\r\nHost: shop\r\n\r\n")
            return extra.recv(1024) == b""
        except ConnectionResetError:
            return True


def test_scrapes_work_while_client_connections_are_at_the_limit(make_stack):
    limit = 2
    stack = make_stack({"GATEWAY_MAX_CONNECTIONS": str(limit)})
    host, port = host_port(stack.config.rest_addr)
    held = [http.client.HTTPConnection(host, port, timeout=10) for _ in range(limit)]
    try:
        for connection in held:  # each answered once and kept open
            connection.request("GET", "/stock/find/x")
            connection.getresponse().read()
        assert refused_at_once(stack.config.rest_addr), "the gateway is not at its limit"

        status, _, body = send(stack.config.stats_addr, "GET", STATS_PATH)
        assert status == 200, body
        assert "envoy_cluster_upstream_rq" in families(body)
    finally:
        for connection in held:
            connection.close()
