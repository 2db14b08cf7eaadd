"""Every kustomize target builds, and every manifest is valid against the Kubernetes API
schemas (offline, strict: an unknown or misspelt field fails)."""

import functools
from collections.abc import Iterator

import pytest
from kubernetes_validate import utils as kv

from .manifests import NO_KUBECTL, TARGETS, build, kubectl, raw_resource_files

pytestmark = pytest.mark.k8s

# The oldest Kubernetes the manifests claim (native sleep preStop hooks, matchLabelKeys) and
# the newest the schemas know.
VERSIONS = ["1.32.0", kv.latest_version()]


@pytest.fixture(scope="module", autouse=True)
def schemas_read_once() -> Iterator[None]:
    """kubernetes-validate reads its schema files again for every object; reading each once
    makes these tests ten times faster."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kv, "schema_contents", functools.cache(kv.schema_contents))
        yield


def schema_errors(doc: dict, version: str) -> list[str]:
    name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
    try:
        kv.validate(doc, version, strict=True)
    except kv.ValidationError as error:
        path = ".".join(str(part) for part in error.path)
        return [f"{name}: {path}: {error.message}"]
    except kv.SchemaNotFoundError as error:
        return [f"{name}: {error.message}"]
    return []


@pytest.mark.parametrize("target", list(TARGETS))
def test_every_target_builds_with_kubectl_kustomize(target: str):
    if not kubectl():
        pytest.skip(NO_KUBECTL)
    kinds = {doc["kind"] for doc in build(target)}
    assert {"Deployment", "Service", "ConfigMap", "NetworkPolicy"} <= kinds


@pytest.mark.parametrize("version", VERSIONS)
def test_every_built_manifest_validates_strictly(overlay: str, version: str):
    if not kubectl():
        pytest.skip(f"{NO_KUBECTL}; test_every_resource_file_validates_strictly still runs")
    errors = [error for doc in build(overlay) for error in schema_errors(doc, version)]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_resource_file_validates_strictly(version: str):
    """The files as written, kubectl or not: each holds whole resources."""
    errors = []
    files = list(raw_resource_files())
    assert len(files) >= 10, files
    for path in files:
        for doc in kv.resources_from_file(str(path)):
            errors += [f"{path.name}: {error}" for error in schema_errors(doc, version)]
    assert not errors, "\n".join(errors)


def test_a_misspelt_field_fails_validation():
    """The validation is strict, so the tests above would catch a typo."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "typo"},
        "spec": {"containers": [{"name": "c", "image": "i"}], "terminationGracePeriod": 30},
    }
    assert schema_errors(pod, VERSIONS[0])
