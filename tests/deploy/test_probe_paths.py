"""The probe paths in the manifests answer 200 on a real Triton 2.51 (the NGC 24.10 release the image uses).

The server runs embedded with an empty model repository: it starts in seconds, and health endpoints do not
depend on the models.
"""

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from orchestrator.triton.embedded import EmbeddedTriton, EmbeddedTritonConfig, ServerPorts
from tests.deploy import checks

pytestmark = pytest.mark.deploy


@pytest.fixture(scope="module")
def triton_http(tmp_path_factory) -> Iterator[str]:
    config = EmbeddedTritonConfig(tmp_path_factory.mktemp("empty-repository"), ServerPorts(0, 0, 0))
    with EmbeddedTriton(config) as server:
        yield server.endpoints.http_url


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _triton_probe_paths(rendered) -> set[str]:
    paths = set()
    for resources in rendered.values():
        container = checks.PodOwner(checks.one(resources, "Deployment", "triton")).container("triton")
        paths |= {container[k]["httpGet"]["path"] for k in ("startupProbe", "readinessProbe", "livenessProbe")}
    return paths


def test_every_triton_probe_path_is_served_by_triton(rendered, triton_http) -> None:
    paths = _triton_probe_paths(rendered)
    assert paths == checks.TRITON_HEALTH_PATHS
    assert {path: _status(triton_http + path) for path in sorted(paths)} == dict.fromkeys(sorted(paths), 200)


def test_a_path_triton_does_not_serve_is_refused_so_the_check_above_can_fail(triton_http) -> None:
    assert _status(triton_http + "/v2/health/readyz") != 200
    assert _status(triton_http + "/healthz") != 200
