"""One way for every command to get a Triton gRPC endpoint: the one given, or an embedded server."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from orchestrator.triton.embedded import EmbeddedTriton, EmbeddedTritonConfig, ServerPorts
from orchestrator.triton.tracing import TritonTracing


@asynccontextmanager
async def triton_endpoint(
    url: str | None, model_repository: Path, trace: TritonTracing | None = None, release_memory: bool = True
) -> AsyncIterator[str]:
    """Yield ``url`` as is, or start an embedded server on free ports and yield its gRPC address; ``trace``
    makes the embedded server export its spans, joined to the callers' traces; ``release_memory`` False runs it
    with glibc's malloc defaults, as the production image does (EmbeddedTritonConfig.release_memory)."""
    if url:
        yield url
        return
    config = EmbeddedTritonConfig(model_repository, ServerPorts(0, 0, 0), trace=trace, release_memory=release_memory)
    async with EmbeddedTriton(config) as server:
        yield server.endpoints.grpc_url
