"""One real embedded Triton server for the benchmark's integration tests."""

from collections.abc import Iterator

import pytest

from orchestrator.paths import DEFAULT_MODEL_REPOSITORY
from orchestrator.triton.embedded import EmbeddedTriton, EmbeddedTritonConfig, ServerPorts


@pytest.fixture(scope="session")
def bench_triton_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("bench-triton") / "tritonserver.log"
    config = EmbeddedTritonConfig(DEFAULT_MODEL_REPOSITORY, ServerPorts(0, 0, 0), log_path=log)
    with EmbeddedTriton(config) as server:
        yield server.endpoints.grpc_url
