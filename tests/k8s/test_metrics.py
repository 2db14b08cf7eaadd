"""Prometheus can scrape every shop service and the gateway: the pod says where (annotations),
the container declares the port and the process listens there (a service's METRICS_ADDR, the
gateway's stats listener), and the NetworkPolicies let a Prometheus pod in, to that port only:
never to Envoy's admin port, whose /quitquitquit and /logging would be anyone's."""

import pytest

from .manifests import (
    PodTemplate,
    effective_env,
    envoy_config,
    listen_port,
    pod_templates,
    selects,
    shop_deployments,
)
from .network_policy import OUTSIDE, Endpoint, connects, policies, port_matches

pytestmark = pytest.mark.k8s

METRICS_PORTS = {"stock": 9101, "payment": 9102, "order": 9103}
GRPC_PORTS = {"stock": 50051, "payment": 50052, "order": 50053}
GATEWAY_STATS_PORT = 9902
GATEWAY_ADMIN_PORT = 9901
GATEWAY_PUBLIC_PORTS = (8000, 8081)
# What a scraper looks like to the policies: a Prometheus pod in its own namespace.
SCRAPER_LABELS = {"app.kubernetes.io/name": "prometheus"}
SCRAPER_NAMESPACE = {"kubernetes.io/metadata.name": "monitoring"}


def assert_scrape_annotations(pod: PodTemplate, port: int, path: str) -> None:
    annotations = pod.workload["spec"]["template"]["metadata"].get("annotations", {})
    assert annotations.get("prometheus.io/scrape") == "true", pod.name
    assert annotations.get("prometheus.io/port") == str(port), pod.name
    assert annotations.get("prometheus.io/path") == path, pod.name


def gateway_pod(docs) -> PodTemplate:
    [pod] = [pod for pod in pod_templates(docs) if pod.labels.get("app") == "gateway"]
    return pod


def test_every_service_serves_metrics_where_its_pod_says(docs):
    for name, pod in shop_deployments(docs).items():
        [container] = pod.containers()
        port = METRICS_PORTS[name]
        assert pod.ports()["metrics"] == port, name
        assert effective_env(docs, container)["METRICS_ADDR"] == f"0.0.0.0:{port}", name
        assert_scrape_annotations(pod, port, "/metrics")


def test_the_gateway_serves_its_stats_where_its_pod_says(docs):
    pod = gateway_pod(docs)
    assert pod.ports()["metrics"] == GATEWAY_STATS_PORT
    assert_scrape_annotations(pod, GATEWAY_STATS_PORT, "/stats/prometheus")
    listeners = {item["name"]: item for item in envoy_config()["static_resources"]["listeners"]}
    assert listen_port(listeners["stats"]["address"]) == GATEWAY_STATS_PORT


def is_scraper(peer: dict) -> bool:
    if "ipBlock" in peer:
        return False
    namespaces = peer.get("namespaceSelector")
    if namespaces is None:
        return False  # the shop's own namespace only, where Prometheus does not run
    return selects(namespaces, SCRAPER_NAMESPACE) and selects(
        peer.get("podSelector", {}), SCRAPER_LABELS
    )


def scraper_admitted(docs, pod: PodTemplate, port: int) -> bool:
    return any(
        (not rule.get("from") or any(is_scraper(peer) for peer in rule["from"]))
        and port_matches(rule.get("ports"), port, "TCP", Endpoint(pod=pod))
        for spec in policies(docs, pod, "Ingress")
        for rule in spec.get("ingress", [])
    )


def test_prometheus_may_scrape_the_metrics_port_and_nothing_else(docs):
    for name, pod in shop_deployments(docs).items():
        assert scraper_admitted(docs, pod, METRICS_PORTS[name]), name
        assert not scraper_admitted(docs, pod, GRPC_PORTS[name]), name
        assert not connects(docs, OUTSIDE, name, METRICS_PORTS[name]), name
        assert not connects(docs, "gateway", name, METRICS_PORTS[name]), name


def rules_naming_the_scraper(docs, pod: PodTemplate) -> list[dict]:
    return [
        rule
        for spec in policies(docs, pod, "Ingress")
        for rule in spec.get("ingress", [])
        if any(is_scraper(peer) for peer in rule.get("from", []))
    ]


def test_prometheus_may_scrape_the_gateways_stats_port_and_not_its_admin(docs):
    pod = gateway_pod(docs)
    assert scraper_admitted(docs, pod, GATEWAY_STATS_PORT)
    assert not scraper_admitted(docs, pod, GATEWAY_ADMIN_PORT)
    # The rule for the scraper opens the stats port alone; 8000 and 8081 are open to everyone
    # (the scraper included) by the public rule, as before.
    [rule] = rules_naming_the_scraper(docs, pod)
    for port in (GATEWAY_ADMIN_PORT, *GATEWAY_PUBLIC_PORTS):
        assert not port_matches(rule.get("ports"), port, "TCP", Endpoint(pod=pod)), port
    # Nobody else reaches the stats port: not the internet, not the shop's own pods.
    assert not connects(docs, OUTSIDE, "gateway", GATEWAY_STATS_PORT)
    for name in METRICS_PORTS:
        assert not connects(docs, name, "gateway", GATEWAY_STATS_PORT), name
