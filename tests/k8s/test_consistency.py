"""The manifests agree with each other and with the code: every container is probed, limited
and unprivileged; every Service reaches a declared port; every reference resolves; every
setting is one the services read."""

import pytest

from .manifests import (
    NO_KUBECTL,
    PodTemplate,
    effective_env,
    env_names_read,
    find,
    is_shop_container,
    kubectl,
    manifests,
    of_kind,
    pod_templates,
    selects,
    service_pods,
    shop_deployments,
)

pytestmark = pytest.mark.k8s

SHOP_SERVICES = {"stock": 50051, "payment": 50052, "order": 50053}


def container_problems(pod: PodTemplate, container: dict, init: bool) -> list[str]:
    where = f"{pod.name} container {container['name']}"
    problems = []
    if pod.long_running and not init:
        problems += [
            f"{where}: no {probe}"
            for probe in ("readinessProbe", "livenessProbe")
            if probe not in container
        ]
    resources = container.get("resources", {})
    for bound in ("requests", "limits"):
        missing = {"cpu", "memory"} - set(resources.get(bound, {}))
        problems += [f"{where}: no {bound}.{resource}" for resource in sorted(missing)]
    context = container.get("securityContext", {})
    pod_context = pod.spec.get("securityContext", {})
    if context.get("readOnlyRootFilesystem") is not True:
        problems.append(f"{where}: root filesystem not read-only")
    if context.get("allowPrivilegeEscalation") is not False or context.get("privileged"):
        problems.append(f"{where}: may gain privileges")
    if "ALL" not in context.get("capabilities", {}).get("drop", []):
        problems.append(f"{where}: capabilities not dropped")
    if context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is not True:
        problems.append(f"{where}: runAsNonRoot is not set")
    if context.get("runAsUser", pod_context.get("runAsUser")) in (None, 0):
        problems.append(f"{where}: no non-root runAsUser (the image's user may be root)")
    seccomp = context.get("seccompProfile", pod_context.get("seccompProfile", {}))
    if seccomp.get("type") not in {"RuntimeDefault", "Localhost"}:
        problems.append(f"{where}: no seccomp profile (the restricted Pod Security Standard)")
    return problems


def test_every_container_has_probes_limits_and_a_non_root_read_only_context(docs):
    pods = pod_templates(docs)
    assert len(pods) >= 4
    problems = [
        problem
        for pod in pods
        for init in (False, True)
        for container in pod.spec.get("initContainers" if init else "containers", [])
        for problem in container_problems(pod, container, init)
    ]
    assert not problems, "\n".join(problems)


def test_the_services_probe_their_grpc_port_natively(docs):
    assert set(shop_deployments(docs)) == set(SHOP_SERVICES)
    for name, pod in shop_deployments(docs).items():
        [container] = pod.containers()
        port = pod.ports()["grpc"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["grpc"]["port"] == port, (name, probe)


def test_each_service_listens_where_its_service_and_peers_point(docs):
    for name, pod in shop_deployments(docs).items():
        [container] = pod.containers()
        env = effective_env(docs, container)
        port = SHOP_SERVICES[name]
        assert pod.ports()["grpc"] == port, name
        assert env["LISTEN_ADDR"] == f"0.0.0.0:{port}", name
        assert env[f"{name.upper()}_SERVICE_ADDR"] == f"{name}:{port}", name
        [service_port] = find(docs, "Service", name)["spec"]["ports"]
        assert (service_port["name"], service_port["port"]) == ("grpc", port), name


def test_every_service_selects_a_deployment_and_targets_a_declared_port(docs):
    services = of_kind(docs, "Service")
    assert {s["metadata"]["name"] for s in services} >= {*SHOP_SERVICES, "gateway"}
    for service in services:
        name = service["metadata"]["name"]
        pods = service_pods(docs, service)
        assert pods, f"Service {name} selects no Deployment"
        headless = service["spec"].get("clusterIP") == "None"
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            for pod in pods:
                assert target in pod.ports(), f"Service {name}: {pod.name} has no port {target}"
                if headless:  # clients dial the pods themselves, at the Service's port
                    assert pod.ports()[target] == port["port"], (name, port)


def test_the_shop_services_are_headless_with_a_grpc_port(docs):
    for name in SHOP_SERVICES:
        service = find(docs, "Service", name)
        assert service["spec"].get("clusterIP") == "None", name
        assert [port["name"] for port in service["spec"]["ports"]] == ["grpc"], name


def references(pod: PodTemplate) -> list[tuple[str, str, bool]]:
    """(kind, name, optional) of every object the pod template needs."""
    refs = []
    if "serviceAccountName" in pod.spec:  # "default" exists in every namespace
        refs.append(("ServiceAccount", pod.spec["serviceAccountName"], False))
    for container in pod.containers(init=True):
        for source in container.get("envFrom", []):
            for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                if key in source:
                    refs.append((kind, source[key]["name"], source[key].get("optional", False)))
    for volume in pod.spec.get("volumes", []):
        if "configMap" in volume:
            refs.append(("ConfigMap", volume["configMap"]["name"], False))
    return refs


def test_every_reference_resolves(docs):
    missing = [
        f"{pod.name} needs {kind} {name}"
        for pod in pod_templates(docs)
        for kind, name, optional in references(pod)
        if not optional and not find(docs, kind, name)
    ]
    for autoscaler in of_kind(docs, "HorizontalPodAutoscaler"):
        target = autoscaler["spec"]["scaleTargetRef"]
        if not find(docs, target["kind"], target["name"]):
            missing.append(f"HPA {autoscaler['metadata']['name']} scales a missing {target}")
    for budget in of_kind(docs, "PodDisruptionBudget"):
        if not any(selects(budget["spec"]["selector"], p.labels) for p in pod_templates(docs)):
            missing.append(f"PDB {budget['metadata']['name']} selects no pod")
    assert not missing, "\n".join(missing)


def test_every_long_running_workload_has_a_budget_and_an_autoscaler(docs):
    for name in [*SHOP_SERVICES, "gateway"]:
        assert find(docs, "PodDisruptionBudget", name), name
        assert find(docs, "HorizontalPodAutoscaler", name), name


def test_termination_grace_outlasts_the_drain(docs):
    for name, pod in shop_deployments(docs).items():
        [container] = pod.containers()
        drain_s = float(effective_env(docs, container).get("SHUTDOWN_GRACE_S", "5"))
        hook = container.get("lifecycle", {}).get("preStop", {})
        sleep_s = hook.get("sleep", {}).get("seconds", 0)
        grace_s = pod.spec.get("terminationGracePeriodSeconds", 30)
        assert grace_s > sleep_s + drain_s, (name, grace_s, sleep_s, drain_s)


def test_the_code_scan_finds_the_settings():
    """The scan below is not vacuous: it finds what the services are known to read."""
    assert {
        "SHOP_STORE",
        "LISTEN_ADDR",
        "SHUTDOWN_GRACE_S",
        "SPANNER_PROJECT",
        "SPANNER_EMULATOR_HOST",
        "KAFKA_BOOTSTRAP_SERVERS",
        "STOCK_SERVICE_ADDR",
        "ORDER_SERVICE_ADDR",
    } <= env_names_read()


def test_every_setting_is_one_the_services_read(docs):
    read = env_names_read()
    unknown = {
        f"{pod.name}: {name}"
        for pod in pod_templates(docs)
        for container in pod.containers(init=True)
        if is_shop_container(container)
        for name in effective_env(docs, container)
        if name not in read
    }
    assert not unknown, f"set but never read by the code: {sorted(unknown)}"


def test_the_services_use_spanner_and_kafka(docs, overlay: str):
    for name, pod in shop_deployments(docs).items():
        [container] = pod.containers()
        env = effective_env(docs, container)
        assert env["SHOP_STORE"] == "spanner", name
        assert env.get("KAFKA_BOOTSTRAP_SERVERS"), name
        emulator = env.get("SPANNER_EMULATOR_HOST", "")
        if overlay == "prod":
            assert not emulator, "production must use Cloud Spanner"
            continue
        host, _, port = emulator.partition(":")
        service = find(docs, "Service", host)
        assert service and int(port) in [p["port"] for p in service["spec"]["ports"]], emulator
        host, _, port = env["KAFKA_BOOTSTRAP_SERVERS"].partition(":")
        service = find(docs, "Service", host)
        assert service and int(port) in [p["port"] for p in service["spec"]["ports"]], host


# --- what only the built prod overlay shows (patches applied) ----------------------------------


@pytest.fixture
def prod() -> tuple[dict, ...]:
    if not kubectl():
        pytest.skip(f"{NO_KUBECTL}: the prod overlay's patches are applied by kustomize")
    return manifests("prod")


def test_prod_reaches_spanner_through_workload_identity(prod):
    for pod in pod_templates(prod):
        if not any(is_shop_container(c) for c in pod.containers()):
            continue
        account = find(prod, "ServiceAccount", pod.spec["serviceAccountName"])
        annotations = account["metadata"].get("annotations", {})
        annotation = annotations.get("iam.gke.io/gcp-service-account", "")
        assert annotation and annotation.endswith(".iam.gserviceaccount.com"), pod.name
        for container in pod.containers():
            assert "GOOGLE_APPLICATION_CREDENTIALS" not in effective_env(prod, container)


def test_prod_runs_at_least_three_of_everything(prod):
    for name in [*SHOP_SERVICES, "gateway"]:
        assert find(prod, "Deployment", name)["spec"]["replicas"] >= 3, name
        assert find(prod, "HorizontalPodAutoscaler", name)["spec"]["minReplicas"] >= 3, name
