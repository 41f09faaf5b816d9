"""Bad frames fail alone: in the same dynamic batch as good frames, and the server keeps serving. Oversized and
undecodable images are refused as the client's error (INVALID_ARG, "rejected") with the limit they break, and in a
request batching several images the message names the bad one."""

import asyncio

import cv2
import numpy as np
import pytest
import tritonclient.grpc.aio as grpcclient
from tritonclient.utils import InferenceServerException

from orchestrator.contract import (
    DETECTOR_MODEL,
    ENSEMBLE_MODEL,
    INPUT_IMAGE_BYTES,
    OUTPUT_NUM_DETECTIONS,
    PREPROCESS_MODEL,
)
from orchestrator.paths import MEDIA_DIR
from orchestrator.triton.client import DetectionClient, translate_error
from orchestrator.triton.errors import InferenceRejectedError
from orchestrator.triton.wire import encode_jpeg
from orchestrator.vision.frame_input import MAX_FRAME_SIDE
from tests.image_bombs import jpeg_bomb, png_bomb

pytestmark = pytest.mark.integration

MIXED_ROUNDS = 3
"""Rounds of good and bad frames sent at once, until one of them was batched by Triton's dynamic batcher."""

BAD_FRAMES = {
    "empty bytes": ("encoded", b"", "encoded image is empty"),
    "not an image": ("encoded", b"this is not an image at all" * 10, "not an image"),
    "truncated png": ("encoded", (MEDIA_DIR / "astronaut.png").read_bytes()[:200], "not an image"),
    "png bomb": ("encoded", png_bomb(), "declares 30000x30000 pixels, above the decode limit of 8192 per side"),
    "jpeg bomb": ("encoded", jpeg_bomb(), "8000x8000 pixels in only 631 bytes, above the decode limit of 4096"),
    "too wide png": ("encoded", cv2.imencode(".png", np.zeros((4, 9000, 3), np.uint8))[1].tobytes(), "declares 9000x4"),
    "zero-sized array": ("raw", np.zeros((0, 0, 3), np.uint8), "raw frame is empty"),
    "too large": ("raw", np.zeros((MAX_FRAME_SIDE + 1, 16, 3), np.uint8), "above the limit"),
    "wrong dtype": ("raw", np.zeros((32, 32, 3), np.float32), "data-type is 'FP32'"),
}


async def send(client: DetectionClient, kind: str, payload):
    return await (client.detect_encoded(payload) if kind == "encoded" else client.detect_raw(payload))


async def server_counts(grpc_url: str) -> tuple[int, int, int]:
    """Triton's own counters so far: preprocess inferences and executions, detector inferences.

    A composing model's counters are updated when its request is released, which may come just after the
    ensemble's response: read until two reads 0.1 s apart agree."""
    client = grpcclient.InferenceServerClient(grpc_url)
    try:
        counts, previous = await _counts(client), None
        while counts != previous:
            await asyncio.sleep(0.1)
            counts, previous = await _counts(client), counts
    finally:
        await client.close()
    return counts


async def _counts(client: grpcclient.InferenceServerClient) -> tuple[int, int, int]:
    pre = (await client.get_inference_statistics(PREPROCESS_MODEL)).model_stats[0]
    det = (await client.get_inference_statistics(DETECTOR_MODEL)).model_stats[0]
    return pre.inference_count, pre.execution_count, det.inference_count


@pytest.mark.parametrize("case", sorted(BAD_FRAMES))
async def test_bad_frame_gets_invalid_argument_with_a_clear_message(grpc_url: str, case: str) -> None:
    kind, payload, message = BAD_FRAMES[case]
    async with DetectionClient.connect(grpc_url) as client:
        with pytest.raises(InferenceRejectedError, match=message) as rejected:
            await send(client, kind, payload)
    assert not any(internal in str(rejected.value) for internal in ("OpenCV", "cv::", "error: (-", ".cpp")), rejected


def client_batch(images: list[bytes]) -> grpcclient.InferInput:
    """One IMAGE_BYTES tensor (B, L) for the whole batch, each image padded with trailing zeros to the longest."""
    batch = np.zeros((len(images), max(map(len, images))), np.uint8)
    for row, image in zip(batch, images, strict=True):
        row[: len(image)] = np.frombuffer(image, np.uint8)
    tensor = grpcclient.InferInput(INPUT_IMAGE_BYTES, list(batch.shape), "UINT8")
    tensor.set_data_from_numpy(batch)
    return tensor


async def test_a_client_batch_with_one_bad_image_names_it_and_is_rejected(grpc_url: str) -> None:
    good = encode_jpeg(cv2.imread(str(MEDIA_DIR / "basketball1.png"))).tobytes()
    client = grpcclient.InferenceServerClient(grpc_url)
    try:
        result = await client.infer(ENSEMBLE_MODEL, [client_batch([good] * 8)])
        with pytest.raises(InferenceServerException) as refused:
            await client.infer(ENSEMBLE_MODEL, [client_batch([good] * 2 + [png_bomb()] + [good] * 5)])
    finally:
        await client.close()
    assert result.as_numpy(OUTPUT_NUM_DETECTIONS).shape[0] == 8, "a good batch of 8 gets 8 answers"
    assert str(refused.value.status()) == "StatusCode.INVALID_ARGUMENT"
    error = translate_error(refused.value)
    assert isinstance(error, InferenceRejectedError), "the orchestrator counts it rejected, not failed"
    assert "item 3 of 8 (batch index 2): encoded image declares 30000x30000" in str(error)
    assert "declares 30000x30000 pixels, above the decode limit of 8192 per side" in str(error)


async def test_bad_frames_batched_with_good_ones_fail_alone(grpc_url: str) -> None:
    good = cv2.imread(str(MEDIA_DIR / "basketball1.png"))
    bad = [BAD_FRAMES[c] for c in ("empty bytes", "not an image", "zero-sized array", "too large")] * 3
    async with DetectionClient.connect(grpc_url) as client:
        expected = await client.detect_raw(good)
        # The batcher only batches what arrives while the instance is busy: on a loaded machine a round's requests
        # may happen to arrive one by one, so up to three rounds, every one checked in full.
        for _ in range(MIXED_ROUNDS):
            executions, inferences = await mixed_round(grpc_url, client, good, expected, bad)
            if executions < inferences - 1:
                break
        else:
            pytest.fail(f"the dynamic batcher batched none of {MIXED_ROUNDS} rounds of mixed requests")
        after_batch = await client.detect_raw(good)
    assert len(after_batch) == len(expected), "the server keeps serving after the mixed batch"


async def mixed_round(grpc_url: str, client: DetectionClient, good: np.ndarray, expected, bad: list) -> tuple[int, int]:
    """Good and bad frames sent at once, interleaved so each dynamic batch mixes them; (executions, inferences)
    of preprocess for the round."""
    before = await server_counts(grpc_url)
    calls = []
    for kind, payload, _ in bad:
        calls += [client.detect_raw(good), send(client, kind, payload)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    after = await server_counts(grpc_url)

    goods, bads = results[0::2], results[1::2]
    for result in goods:
        assert not isinstance(result, BaseException), result
        np.testing.assert_array_equal(result.boxes, expected.boxes)
        np.testing.assert_array_equal(result.scores, expected.scores)
    for result, (_, _, message) in zip(bads, bad, strict=True):
        assert isinstance(result, InferenceRejectedError) and message in str(result), result
    inferences, executions, detector_inferences = (a - b for a, b in zip(after, before, strict=True))
    assert inferences == len(calls), "every request reached preprocess"
    assert detector_inferences == len(goods), "only the good frames went on to the detector"
    return executions, inferences
