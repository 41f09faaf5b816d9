"""Renders every kustomize overlay once per session."""

import pytest

from tests.deploy import checks


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[checks.Resource]]:
    """Overlay name -> its rendered resources."""
    return {overlay.name: checks.render(overlay) for overlay in checks.overlays()}


@pytest.fixture(scope="session")
def stages() -> dict[str, checks.Stage]:
    return checks.parse_dockerfile(checks.DOCKERFILE.read_text())[1]
