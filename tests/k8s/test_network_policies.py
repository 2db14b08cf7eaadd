"""The NetworkPolicies let exactly the shop's conversations through, as the evaluator in
tests/k8s/network_policy.py reads them: a connection is open when the source's egress and the
destination's ingress both allow it."""

import pytest

from .manifests import pod_templates
from .network_policy import DNS, METADATA, OUTSIDE, SERVICES, connects, policies

pytestmark = pytest.mark.k8s

OPEN_EVERYWHERE = [
    (OUTSIDE, "gateway", 8000),
    (OUTSIDE, "gateway", 8081),
    *[("gateway", name, port) for name, port in SERVICES.items()],
    ("order", "stock", 50051),
    ("order", "payment", 50052),
    ("stock", "order", 50053),
    ("payment", "order", 50053),
    *[(name, OUTSIDE, 443) for name in SERVICES],
]
CLOSED_EVERYWHERE = [
    (OUTSIDE, "gateway", 9901),
    (OUTSIDE, "gateway", 9902),
    *[(OUTSIDE, name, port) for name, port in SERVICES.items()],
    ("stock", "payment", 50052),
    ("payment", "stock", 50051),
    ("gateway", OUTSIDE, 443),
    ("gateway", OUTSIDE, 9092),
    ("gateway", METADATA, 80),
]
OPEN = {
    "dev": [
        *[(name, "kafka", 9092) for name in SERVICES],
        *[(name, "spanner-emulator", 9010) for name in [*SERVICES, "spanner-schema"]],
    ],
    "prod": [
        *[(name, OUTSIDE, 9092) for name in SERVICES],
        *[(name, METADATA, 80) for name in [*SERVICES, "spanner-schema"]],
        ("spanner-schema", OUTSIDE, 443),
    ],
}
CLOSED = {
    "dev": [
        ("gateway", "kafka", 9092),
        ("gateway", "spanner-emulator", 9010),
        (OUTSIDE, "kafka", 9092),
        (OUTSIDE, "spanner-emulator", 9010),
        ("kafka", "stock", 50051),
        ("kafka", OUTSIDE, 443),
        ("spanner-emulator", OUTSIDE, 443),
        ("spanner-schema", "kafka", 9092),
        ("spanner-schema", "stock", 50051),
    ],
    "prod": [
        ("spanner-schema", "stock", 50051),
        ("gateway", "spanner-schema", 443),
    ],
}


def test_exactly_the_shops_conversations_are_open(docs, overlay: str):
    wrong = [
        f"{source} -> {target}:{port} should be open"
        for source, target, port in OPEN_EVERYWHERE + OPEN[overlay]
        if not connects(docs, source, target, port)
    ] + [
        f"{source} -> {target}:{port} should be closed"
        for source, target, port in CLOSED_EVERYWHERE + CLOSED[overlay]
        if connects(docs, source, target, port)
    ]
    assert not wrong, "\n".join(wrong)


def test_every_pod_is_isolated_and_resolves_names(docs):
    for pod in pod_templates(docs):
        assert policies(docs, pod, "Ingress"), f"{pod.name} accepts anything"
        assert policies(docs, pod, "Egress"), f"{pod.name} may connect anywhere"
        app = pod.labels["app"]
        assert connects(docs, app, DNS, 53, "UDP"), f"{pod.name} cannot resolve names"
        assert connects(docs, app, DNS, 53, "TCP"), f"{pod.name} cannot resolve long names"
