"""One way for every command to get a Triton gRPC endpoint: the one given, or an embedded server."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from orchestrator.triton.embedded import EmbeddedTriton, EmbeddedTritonConfig, ServerPorts


@asynccontextmanager
async def triton_endpoint(url: str | None, model_repository: Path) -> AsyncIterator[str]:
    """Yield ``url`` as is, or start an embedded server on free ports and yield its gRPC address."""
    if url:
        yield url
        return
    async with EmbeddedTriton(EmbeddedTritonConfig(model_repository, ServerPorts(0, 0, 0))) as server:
        yield server.endpoints.grpc_url
