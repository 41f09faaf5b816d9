"""The client seam against a real server, and against no server at all."""

import asyncio

import cv2
import pytest

from orchestrator.contract import DETECTOR_MODEL
from orchestrator.paths import MEDIA_DIR
from orchestrator.triton.client import DetectionClient
from orchestrator.triton.embedded import ServerPorts
from orchestrator.triton.errors import InferenceExpiredError, TritonUnavailableError
from orchestrator.vision.letterbox import letterbox

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


async def test_a_frame_that_goes_stale_in_tritons_queue_is_dropped_there(grpc_url: str) -> None:
    """The detector's queue policy honours a request's own timeout: behind a burst that keeps the (one, CPU)
    detector busy for far longer than 1 ms, a frame allowed 1 ms in the queue is rejected, not computed."""
    frame = cv2.imread(str(MEDIA_DIR / "basketball1.png"))
    async with DetectionClient.connect(grpc_url, DETECTOR_MODEL) as client:
        boxed, plan = letterbox(frame, await client.input_size())
        burst = [asyncio.create_task(client.detect_letterboxed(boxed, plan)) for _ in range(24)]
        await asyncio.sleep(0.05)  # the burst is queued at the server
        with pytest.raises(InferenceExpiredError, match="timeout expired"):
            await client.detect_letterboxed(boxed, plan, queue_timeout_s=0.001)
        answered = await asyncio.gather(*burst)
        assert all(len(d.of_class(0)) >= 2 for d in answered), "the burst itself is computed in full"
        assert (answered[0].model, answered[0].model_version) == (DETECTOR_MODEL, "1")
