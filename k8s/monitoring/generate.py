"""Write k8s/monitoring/dashboard.json, the shop's Grafana dashboard, from the panels below.

    python k8s/monitoring/generate.py        # make monitoring-config; commit the result

Plain JSON built here rather than with a dashboard library: the panels are a handful of
time series on one Prometheus data source, and the schema they need is small and stable.
tests/k8s/test_monitoring.py checks that the committed file is current and that every metric
a panel (or an alert rule in alerts.yaml) names is one the services export.
"""

import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
CHECKOUT = 'grpc_service="shop.order.v1.OrderService", grpc_method="Checkout"'
# Envoy's clusters of the three services (its admin cluster is not one).
UPSTREAMS = 'envoy_cluster_name=~"order|stock|payment"'

# (title, unit, [(PromQL, legend)]) per panel, two panels a row.
PANELS = [
    (
        "Checkouts/s by outcome",
        "reqps",
        [("sum by (reason) (rate(shop_checkout_outcomes_total[1m]))", "{{reason}}")],
    ),
    (
        "Checkout latency (order, server side)",
        "s",
        [
            (
                f"histogram_quantile({q}, sum by (le) "
                f"(rate(grpc_server_handling_seconds_bucket{{{CHECKOUT}}}[5m])))",
                f"p{round(q * 100)}",
            )
            for q in (0.5, 0.95, 0.99)
        ],
    ),
    (
        "RPC latency p99 by service and method",
        "s",
        [
            (
                "histogram_quantile(0.99, sum by (le, grpc_service, grpc_method) "
                "(rate(grpc_server_handling_seconds_bucket[5m])))",
                "{{grpc_service}}/{{grpc_method}}",
            )
        ],
    ),
    (
        "RPC errors/s by code",
        "reqps",
        [
            (
                "sum by (grpc_service, grpc_code) "
                '(rate(grpc_server_handled_total{grpc_code!="OK"}[1m]))',
                "{{grpc_service}} {{grpc_code}}",
            )
        ],
    ),
    (
        "Reservations held",
        "short",
        [("max by (service) (shop_reservations_held)", "{{service}}")],
    ),
    (
        "Oldest held reservation (participants ask the coordinator after RESERVATION_TIMEOUT_S)",
        "s",
        [("max by (service) (shop_reservation_oldest_held_seconds)", "{{service}}")],
    ),
    (
        "Gateway: healthy upstream endpoints, and connect failures/s",
        "short",
        [
            (
                f"min by (envoy_cluster_name) (envoy_cluster_membership_healthy{{{UPSTREAMS}}})",
                "{{envoy_cluster_name}} healthy",
            ),
            (
                "sum by (envoy_cluster_name) "
                f"(rate(envoy_cluster_upstream_cx_connect_fail{{{UPSTREAMS}}}[1m]))",
                "{{envoy_cluster_name}} connect failures/s",
            ),
        ],
    ),
    (
        "Outbox backlog",
        "short",
        [("max by (service) (shop_outbox_backlog)", "{{service}}")],
    ),
    (
        "Recovery actions/s",
        "ops",
        [
            (
                "sum by (service, action) (rate(shop_recovery_actions_total[5m]))",
                "{{service}} {{action}}",
            )
        ],
    ),
    (
        "Outbox relay: published and errors/s",
        "ops",
        [
            ("sum by (service) (rate(shop_outbox_published_total[1m]))", "{{service}} published"),
            ("sum by (service) (rate(shop_outbox_relay_errors_total[5m]))", "{{service}} errors"),
        ],
    ),
]


def panel(index: int, title: str, unit: str, targets: list[tuple[str, str]]) -> dict:
    return {
        "id": index + 1,
        "type": "timeseries",
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "datasource": DATASOURCE,
                "expr": expr,
                "legendFormat": legend,
            }
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def dashboard() -> dict:
    return {
        "uid": "shopmesh-checkout",
        "title": "shopmesh: checkout",
        "tags": ["shopmesh"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Prometheus",
                    "type": "datasource",
                    "query": "prometheus",
                }
            ]
        },
        "panels": [panel(i, *spec) for i, spec in enumerate(PANELS)],
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2) + "\n"


if __name__ == "__main__":
    (HERE / "dashboard.json").write_text(render())
