"""Prometheus can scrape every shop service: the pod says where (annotations), the container
declares the port and the service listens there (METRICS_ADDR), and the NetworkPolicies let a
Prometheus pod in, to that port only."""

import pytest

from .manifests import PodTemplate, selects
from .test_consistency import effective_env, shop_deployments
from .test_network_policies import OUTSIDE, Endpoint, connects, policies, port_matches

pytestmark = pytest.mark.k8s

METRICS_PORTS = {"stock": 9101, "payment": 9102, "order": 9103}
GRPC_PORTS = {"stock": 50051, "payment": 50052, "order": 50053}
# What a scraper looks like to the policies: a Prometheus pod in its own namespace.
SCRAPER_LABELS = {"app.kubernetes.io/name": "prometheus"}
SCRAPER_NAMESPACE = {"kubernetes.io/metadata.name": "monitoring"}


def test_every_service_serves_metrics_where_its_pod_says(docs):
    for name, pod in shop_deployments(docs).items():
        [container] = pod.containers()
        port = METRICS_PORTS[name]
        assert pod.ports()["metrics"] == port, name
        assert effective_env(docs, container)["METRICS_ADDR"] == f"0.0.0.0:{port}", name
        annotations = pod.workload["spec"]["template"]["metadata"].get("annotations", {})
        assert annotations.get("prometheus.io/scrape") == "true", name
        assert annotations.get("prometheus.io/port") == str(port), name
        assert annotations.get("prometheus.io/path") == "/metrics", name


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
