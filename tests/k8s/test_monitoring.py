"""The monitoring files (k8s/monitoring): the Grafana dashboard is what its generator writes,
the alert rules are valid Prometheus rules, and every metric a panel or a rule names is one
the services export, so that no panel stays empty and no alert can never fire."""

import importlib.util
import json
import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_client import Counter, Histogram

from shopmesh.telemetry import metrics

from .manifests import MONITORING

pytestmark = pytest.mark.k8s

DASHBOARD = MONITORING / "dashboard.json"
ALERTS = MONITORING / "alerts.yaml"
# A metric name in PromQL: the shop's own and gRPC's (functions, labels and keywords are not).
METRIC = re.compile(r"\b((?:shop|grpc|envoy)_[a-z0-9_]+)\b")
# Label matchers and grouping clauses, whose label names (grpc_service, ...) are no metrics.
LABELS = re.compile(r"\{[^}]*\}|\b(?:by|without)\s*\([^)]*\)")
SUFFIXES = {Counter: ("_total",), Histogram: ("_bucket", "_sum", "_count")}


def exported() -> set[str]:
    """Every sample name the services' metrics module can serve."""
    gauges = (metrics.OUTBOX_BACKLOG, metrics.RESERVATIONS_HELD, metrics.OLDEST_RESERVATION)
    names = {gauge.name for gauge in gauges}
    for value in vars(metrics).values():
        for kind, suffixes in SUFFIXES.items():
            if isinstance(value, kind):
                names.update(value._name + suffix for suffix in suffixes)
    return names


def metrics_named(expr: str) -> set[str]:
    return set(METRIC.findall(LABELS.sub(" ", expr)))


def panel_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def rules() -> list[dict]:
    return [
        rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]
    ]


def test_the_dashboard_is_what_its_generator_writes():
    spec = importlib.util.spec_from_file_location("generate", MONITORING / "generate.py")
    assert spec and spec.loader
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    assert DASHBOARD.read_text() == generate.render(), "run: python k8s/monitoring/generate.py"


def test_every_metric_a_panel_or_rule_names_is_exported():
    known = exported()
    assert {"grpc_server_handled_total", "shop_checkout_outcomes_total"} <= known
    for where, expr in [
        *(("dashboard", e) for e in panel_exprs()),
        *((rule["alert"], rule["expr"]) for rule in rules()),
    ]:
        named = metrics_named(expr)
        assert named, f"{where}: names no shop metric: {expr}"
        # Envoy's own are checked against a running gateway (tests/e2e/test_observability.py).
        ours = {name for name in named if not name.startswith("envoy_")}
        assert ours <= known, f"{where}: not exported: {sorted(ours - known)}"


def test_the_dashboard_shows_what_an_operator_watches():
    named = {name for expr in panel_exprs() for name in metrics_named(expr)}
    assert named >= {
        "shop_checkout_outcomes_total",
        "grpc_server_handling_seconds_bucket",
        "shop_reservations_held",
        "shop_outbox_backlog",
        "shop_recovery_actions_total",
        "shop_outbox_relay_errors_total",
        "shop_reservation_oldest_held_seconds",
        "envoy_cluster_membership_healthy",
    }


def test_the_alert_rules_are_valid():
    promtool = shutil.which("promtool")
    if promtool:
        checked = subprocess.run([promtool, "check", "rules", str(ALERTS)], capture_output=True)
        assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
    # The shape promtool does not insist on, checked either way.
    for rule in rules():
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in {"page", "ticket"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
