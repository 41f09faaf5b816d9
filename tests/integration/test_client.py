"""The client seam against a real server, and against no server at all."""

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from orchestrator.contract import DETECTOR_MODEL
from orchestrator.paths import MEDIA_DIR
from orchestrator.repository.model_config import load_model, write_config
from orchestrator.repository.profiles import live_queue_policy
from orchestrator.triton.client import DetectionClient
from orchestrator.triton.embedded import EmbeddedTriton, EmbeddedTritonConfig, ServerPorts
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


@pytest.fixture(scope="module")
def queue_policy_url(model_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server whose detector has the GPU profile's live queue policy (the CPU profile leaves it out)."""
    repository = tmp_path_factory.mktemp("queue-policy") / "model_repository"
    shutil.copytree(model_repository, repository, ignore=shutil.ignore_patterns("__pycache__"))
    detector = load_model(repository / DETECTOR_MODEL)
    live_queue_policy(detector.config.dynamic_batching)
    write_config(detector.config, detector.directory)
    with EmbeddedTriton(EmbeddedTritonConfig(repository, ServerPorts(0, 0, 0))) as server:
        yield server.endpoints.grpc_url


async def test_a_frame_that_goes_stale_in_tritons_queue_is_dropped_there(queue_policy_url: str) -> None:
    """The live queue policy honours a request's own timeout: behind a burst that keeps the (one, CPU) detector
    busy for far longer than 1 ms, a frame allowed 1 ms in the queue is rejected, not computed."""
    frame = cv2.imread(str(MEDIA_DIR / "basketball1.png"))
    async with DetectionClient.connect(queue_policy_url, DETECTOR_MODEL) as client:
        boxed, plan = letterbox(frame, await client.input_size())
        burst = [asyncio.create_task(client.detect_letterboxed(boxed, plan)) for _ in range(24)]
        await asyncio.sleep(0.05)  # the burst is queued at the server
        with pytest.raises(InferenceExpiredError, match="timeout expired"):
            await client.detect_letterboxed(boxed, plan, queue_timeout_s=0.001)
        answered = await asyncio.gather(*burst)
        assert all(len(d.of_class(0)) >= 2 for d in answered), "the burst itself is computed in full"
        assert (answered[0].model, answered[0].model_version) == (DETECTOR_MODEL, "1")


async def test_without_a_queue_policy_the_queue_timeout_is_ignored(grpc_url: str) -> None:
    """The CPU profile has no queue policy: the same late frame is computed, however long it waited."""
    frame = cv2.imread(str(MEDIA_DIR / "basketball1.png"))
    async with DetectionClient.connect(grpc_url, DETECTOR_MODEL) as client:
        boxed, plan = letterbox(frame, await client.input_size())
        burst = [asyncio.create_task(client.detect_letterboxed(boxed, plan)) for _ in range(8)]
        await asyncio.sleep(0.05)
        late = await client.detect_letterboxed(boxed, plan, queue_timeout_s=0.001)
        await asyncio.gather(*burst)
    assert len(late.of_class(0)) >= 2
