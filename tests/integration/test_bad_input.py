"""Bad frames fail alone: in the same dynamic batch as good frames, and the server keeps serving."""

import asyncio

import cv2
import numpy as np
import pytest
import tritonclient.grpc.aio as grpcclient

from orchestrator.contract import DETECTOR_MODEL, PREPROCESS_MODEL
from orchestrator.paths import MEDIA_DIR
from orchestrator.triton.client import DetectionClient
from orchestrator.triton.errors import InferenceRejectedError
from orchestrator.vision.frame_input import MAX_FRAME_SIDE

pytestmark = pytest.mark.integration

BAD_FRAMES = {
    "empty bytes": ("encoded", b"", "encoded image is empty"),
    "not an image": ("encoded", b"GIF89a-but-not-really" * 10, "not an image"),
    "truncated png": ("encoded", (MEDIA_DIR / "astronaut.png").read_bytes()[:200], "not an image"),
    "zero-sized array": ("raw", np.zeros((0, 0, 3), np.uint8), "raw frame is empty"),
    "too large": ("raw", np.zeros((MAX_FRAME_SIDE + 1, 16, 3), np.uint8), "above the limit"),
    "wrong dtype": ("raw", np.zeros((32, 32, 3), np.float32), "data-type is 'FP32'"),
}


async def send(client: DetectionClient, kind: str, payload):
    return await (client.detect_encoded(payload) if kind == "encoded" else client.detect_raw(payload))


async def server_counts(grpc_url: str) -> tuple[int, int, int]:
    """Triton's own counters so far: preprocess inferences and executions, detector inferences."""
    client = grpcclient.InferenceServerClient(grpc_url)
    try:
        pre = (await client.get_inference_statistics(PREPROCESS_MODEL)).model_stats[0]
        det = (await client.get_inference_statistics(DETECTOR_MODEL)).model_stats[0]
    finally:
        await client.close()
    return pre.inference_count, pre.execution_count, det.inference_count


@pytest.mark.parametrize("case", sorted(BAD_FRAMES))
async def test_bad_frame_gets_invalid_argument_with_a_clear_message(grpc_url: str, case: str) -> None:
    kind, payload, message = BAD_FRAMES[case]
    async with DetectionClient.connect(grpc_url) as client:
        with pytest.raises(InferenceRejectedError, match=message):
            await send(client, kind, payload)


async def test_bad_frames_batched_with_good_ones_fail_alone(grpc_url: str) -> None:
    good = cv2.imread(str(MEDIA_DIR / "basketball1.png"))
    bad = [BAD_FRAMES[c] for c in ("empty bytes", "not an image", "zero-sized array", "too large")] * 3
    before = await server_counts(grpc_url)
    async with DetectionClient.connect(grpc_url) as client:
        expected = await client.detect_raw(good)
        calls = []
        for kind, payload, _ in bad:  # interleave so each dynamic batch mixes good and bad frames
            calls += [client.detect_raw(good), send(client, kind, payload)]
        results = await asyncio.gather(*calls, return_exceptions=True)
        after_batch = await client.detect_raw(good)
    after = await server_counts(grpc_url)

    goods, bads = results[0::2], results[1::2]
    for result in goods:
        assert not isinstance(result, BaseException), result
        np.testing.assert_array_equal(result.boxes, expected.boxes)
        np.testing.assert_array_equal(result.scores, expected.scores)
    for result, (_, _, message) in zip(bads, bad, strict=True):
        assert isinstance(result, InferenceRejectedError) and message in str(result), result
    inferences, executions, detector_inferences = (a - b for a, b in zip(after, before, strict=True))
    assert inferences == len(calls) + 2, "every request reached preprocess"
    assert executions < inferences - 1, "requests were really batched together by the dynamic batcher"
    assert detector_inferences == len(goods) + 2, "only the good frames went on to the detector"
    assert len(after_batch) == len(expected), "the server keeps serving after the mixed batch"
