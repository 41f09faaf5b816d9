"""The client seam against a real server, and against no server at all."""

import pytest

from orchestrator.paths import MEDIA_DIR
from orchestrator.triton.client import DetectionClient
from orchestrator.triton.embedded import ServerPorts
from orchestrator.triton.errors import TritonUnavailableError

pytestmark = pytest.mark.integration


async def test_unreachable_server_is_unavailable_not_a_crash() -> None:
    url = f"127.0.0.1:{ServerPorts(0, 0, 0).resolved().grpc}"
    async with DetectionClient.connect(url, timeout_s=2.0) as client:
        assert await client.is_ready() is False
        with pytest.raises(TritonUnavailableError):
            await client.detect_encoded((MEDIA_DIR / "astronaut.png").read_bytes())


async def test_ready_against_the_real_server(grpc_url: str) -> None:
    async with DetectionClient.connect(grpc_url) as client:
        assert await client.is_ready() is True
