"""The Kubernetes manifests under k8s/, as the cluster would get them, and what they say.

`build(target)` runs `kubectl kustomize`. Where kubectl is absent (it is not on every machine
of this kind), `load_without_kubectl(target)` reads the same tree itself: every resource and
component, and the ConfigMaps the generators make; patches, image and replica settings are not
applied, so the checks run on the base's manifests as written.
"""

import functools
import pathlib
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
MONITORING = K8S / "monitoring"
OVERLAYS = ["dev", "prod"]
TARGETS = {"base": K8S / "base", **{name: K8S / "overlays" / name for name in OVERLAYS}}
ENVOY_CONFIG = K8S / "base" / "gateway" / "envoy.yaml"
# The prod overlay's: the same plus Envoy's OpenTelemetry tracer (`make k8s-config`).
PROD_ENVOY_CONFIG = K8S / "overlays" / "prod" / "gateway" / "envoy.yaml"
SHOP_IMAGE = "shopmesh"
SHOP_SOURCES = ["shopmesh", "stock_svc", "payment_svc", "order_svc"]
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}
NO_KUBECTL = "kubectl is not installed (Debian 12 machines of this kind have it at /usr/bin)"


def kubectl() -> str | None:
    return shutil.which("kubectl")


@functools.cache
def build(target: str) -> tuple[dict, ...]:
    """`kubectl kustomize` of a target (base, dev, prod)."""
    done = subprocess.run(
        [kubectl() or "kubectl", "kustomize", str(TARGETS[target])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise AssertionError(f"kubectl kustomize {target} failed:\n{done.stderr}")
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


@functools.cache
def load_without_kubectl(target: str) -> tuple[dict, ...]:
    docs: list[dict] = []
    _load(TARGETS[target], docs)
    return tuple(docs)


def manifests(target: str) -> tuple[dict, ...]:
    return build(target) if kubectl() else load_without_kubectl(target)


def _load(directory: pathlib.Path, docs: list[dict]) -> None:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            _load(path, docs)
        else:
            docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    for generator in kustomization.get("configMapGenerator", []):
        _generate_config_map(directory, generator, docs)
    for entry in kustomization.get("components", []):
        _load((directory / entry).resolve(), docs)


def _generate_config_map(directory: pathlib.Path, generator: dict, docs: list[dict]) -> None:
    data: dict[str, str] = {}
    for env_file in generator.get("envs", []):
        data.update(read_env_file(directory / env_file))
    for literal in generator.get("literals", []):
        key, _, value = literal.partition("=")
        data[key] = value
    for entry in generator.get("files", []):
        key, _, path = entry.rpartition("=")
        data[key or pathlib.Path(path).name] = (directory / path).read_text()
    existing = find(docs, "ConfigMap", generator["name"])
    if generator.get("behavior") == "merge" and existing:
        existing["data"].update(data)
        return
    if generator.get("behavior") == "replace" and existing:
        existing["data"] = data
        return
    metadata = {"name": generator["name"]}
    docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data})


def read_env_file(path: pathlib.Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value
    return pairs


def find(docs: tuple[dict, ...] | list[dict], kind: str, name: str) -> dict | None:
    """The object of that kind and name; a generated name may carry kustomize's hash suffix."""
    for doc in docs:
        if doc["kind"] == kind and re.fullmatch(
            rf"{re.escape(name)}(-[a-z0-9]{{10}})?", doc["metadata"]["name"]
        ):
            return doc
    return None


def of_kind(docs: tuple[dict, ...], kind: str) -> list[dict]:
    return [doc for doc in docs if doc["kind"] == kind]


# --- pods -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PodTemplate:
    """A workload's pod template: what a pod it starts would look like."""

    workload: dict

    @property
    def name(self) -> str:
        return f"{self.workload['kind']}/{self.workload['metadata']['name']}"

    @property
    def spec(self) -> dict:
        return self.workload["spec"]["template"]["spec"]

    @property
    def labels(self) -> dict[str, str]:
        return self.workload["spec"]["template"]["metadata"].get("labels", {})

    @property
    def long_running(self) -> bool:
        return self.workload["kind"] != "Job"

    def containers(self, init: bool = False) -> list[dict]:
        """The containers, and with `init` the init containers too."""
        extra = self.spec.get("initContainers", []) if init else []
        return self.spec.get("containers", []) + extra

    def ports(self) -> dict[str | int, int]:
        """Every declared container port, by number and by name."""
        ports: dict[str | int, int] = {}
        for container in self.containers():
            for port in container.get("ports", []):
                ports[port["containerPort"]] = port["containerPort"]
                if "name" in port:
                    ports[port["name"]] = port["containerPort"]
        return ports


def pod_templates(docs: tuple[dict, ...]) -> list[PodTemplate]:
    return [PodTemplate(doc) for doc in docs if doc["kind"] in WORKLOAD_KINDS]


def service_pods(docs: tuple[dict, ...], service: dict) -> list[PodTemplate]:
    """The long-running pods a Service sends traffic to."""
    selector = {"matchLabels": service["spec"].get("selector") or {"": "selects nothing"}}
    pods = pod_templates(docs)
    return [pod for pod in pods if pod.long_running and selects(selector, pod.labels)]


def is_shop_container(container: dict) -> bool:
    """Runs the shop's own image (any registry, any tag)."""
    repository = container["image"].rsplit("/", 1)[-1].split("@")[0].split(":")[0]
    return repository == SHOP_IMAGE


def selects(selector: dict, labels: dict[str, str]) -> bool:
    """A label selector (matchLabels and matchExpressions) against a set of labels."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


# --- what the services read -------------------------------------------------------------------


ENV_READ = re.compile(r"""env_(?:str|int|float)\(\s*["']([A-Z][A-Z0-9_]*)["']""")


def env_names_read() -> set[str]:
    """Every setting the shop's code reads through shopmesh.settings' helpers."""
    names = set()
    for package in SHOP_SOURCES:
        for source in (ROOT / package).rglob("*.py"):
            names.update(ENV_READ.findall(source.read_text()))
    return names


def raw_resource_files() -> Iterator[pathlib.Path]:
    """The YAML files under k8s/ that hold whole resources (not kustomizations, not the
    Envoy config, not k8s/monitoring's Prometheus rules: tests/k8s/test_monitoring.py)."""
    for path in sorted(K8S.rglob("*.yaml")):
        if (
            path.name != "kustomization.yaml"
            and path not in (ENVOY_CONFIG, PROD_ENVOY_CONFIG)
            and MONITORING not in path.parents
        ):
            yield path


def shop_deployments(docs) -> dict[str, PodTemplate]:
    return {
        pod.workload["metadata"]["name"]: pod
        for pod in pod_templates(docs)
        if pod.long_running and any(is_shop_container(c) for c in pod.containers())
    }


def effective_env(docs, container: dict) -> dict[str, str]:
    """What the container's process finds in its environment (ConfigMaps resolved)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(find(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
    env.update({item["name"]: item.get("value", "") for item in container.get("env", [])})
    return env


def envoy_config() -> dict:
    return yaml.safe_load(ENVOY_CONFIG.read_text())


def listen_port(address: dict) -> int:
    socket = address["socket_address"]
    assert socket["address"] == "0.0.0.0", "in a pod, listen on every interface"
    return socket["port_value"]
