"""A small evaluator of the NetworkPolicy semantics (pod selectors, ipBlocks, ports) over an
overlay's pod templates: a connection is open when the source's egress and the destination's
ingress both allow it. Shared by the network-policy and metrics tests."""

import ipaddress
from dataclasses import dataclass

from .manifests import PodTemplate, of_kind, pod_templates, selects

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
