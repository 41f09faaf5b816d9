"""One real embedded Triton server for the whole integration session."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.triton.embedded import EmbeddedTriton, EmbeddedTritonConfig, ServerPorts


@pytest.fixture(scope="session")
def triton(model_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedTriton]:
    log = tmp_path_factory.mktemp("triton") / "tritonserver.log"
    with EmbeddedTriton(EmbeddedTritonConfig(model_repository, ServerPorts(0, 0, 0), log_path=log)) as server:
        yield server


@pytest.fixture(scope="session")
def grpc_url(triton: EmbeddedTriton) -> str:
    return triton.endpoints.grpc_url
