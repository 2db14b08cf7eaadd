"""The NetworkPolicies let exactly the shop's conversations through. A small evaluator of the
NetworkPolicy semantics (pod selectors, ipBlocks, ports) over the overlay's pod templates: a
connection is open when the source's egress and the destination's ingress both allow it."""

import ipaddress
from dataclasses import dataclass

import pytest

from .manifests import PodTemplate, of_kind, pod_templates, selects

pytestmark = pytest.mark.k8s

OUTSIDE = "203.0.113.10"  # a client on the internet, Cloud Spanner's API, a managed Kafka
DNS = "10.96.0.10"
METADATA = "169.254.169.254"
SERVICES = {"stock": 50051, "payment": 50052, "order": 50053}


@dataclass(frozen=True)
class Endpoint:
    """One end of a connection: a pod (by its template) or an address outside the shop."""

    pod: PodTemplate | None = None
    ip: str = ""

    def ports(self) -> dict:
        return self.pod.ports() if self.pod else {}


def policies(docs, pod: PodTemplate, direction: str) -> list[dict]:
    return [
        policy["spec"]
        for policy in of_kind(docs, "NetworkPolicy")
        if direction in policy["spec"].get("policyTypes", ["Ingress"])
        and selects(policy["spec"]["podSelector"], pod.labels)
    ]


def peer_matches(peer: dict, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        if not other.ip:
            return False  # pod addresses are not meant to be matched by ipBlock
        address = ipaddress.ip_address(other.ip)
        block = peer["ipBlock"]
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(cidr) for cidr in block.get("except", [])
        )
    if "namespaceSelector" in peer or not other.pod:
        return False
    return selects(peer.get("podSelector", {}), other.pod.labels)


def port_matches(allowed: list[dict] | None, port: int, protocol: str, target: Endpoint) -> bool:
    if not allowed:
        return True
    for entry in allowed:
        if entry.get("protocol", "TCP") != protocol:
            continue
        if "port" not in entry:
            return True  # every port of the protocol
        number = entry["port"]
        if isinstance(number, str):  # a named port of the destination pod
            number = target.ports().get(number)
        if number is not None and number <= port <= entry.get("endPort", number):
            return True
    return False


def admits(docs, pod, direction, other: Endpoint, port, protocol, target: Endpoint) -> bool:
    selected = policies(docs, pod, direction)
    if not selected:
        return True
    rules_key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    return any(
        (not rule.get(peers_key) or any(peer_matches(p, other) for p in rule[peers_key]))
        and port_matches(rule.get("ports"), port, protocol, target)
        for spec in selected
        for rule in spec.get(rules_key, [])
    )


def endpoint(docs, name: str) -> Endpoint:
    if name[0].isdigit():
        return Endpoint(ip=name)
    [pod] = [pod for pod in pod_templates(docs) if pod.labels.get("app") == name]
    return Endpoint(pod=pod)


def connects(docs, source: str, target: str, port: int, protocol: str = "TCP") -> bool:
    src, dst = endpoint(docs, source), endpoint(docs, target)
    out = not src.pod or admits(docs, src.pod, "Egress", dst, port, protocol, dst)
    into = not dst.pod or admits(docs, dst.pod, "Ingress", src, port, protocol, dst)
    return out and into


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
