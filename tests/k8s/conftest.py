"""tests/k8s: the Kubernetes manifests, checked offline in seconds (`make k8s-validate`)."""

import warnings

import pytest

from .manifests import NO_KUBECTL, OVERLAYS, kubectl, manifests


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "k8s: offline checks of the Kubernetes manifests (fast)")


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def docs(overlay: str) -> tuple[dict, ...]:
    """The overlay's manifests: built by kubectl kustomize, or read from the tree without it."""
    if not kubectl():
        warnings.warn(
            f"{NO_KUBECTL}: checking k8s/ as written, without kustomize's patches", stacklevel=1
        )
    return manifests(overlay)
