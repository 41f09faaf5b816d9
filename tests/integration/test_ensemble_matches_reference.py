"""Every wire's detections equal an independent in-process reference on the researcher's source graph.

Encoded and raw frames go through the ensemble (Python preprocess -> served graph); letterboxed frames go straight
to the detector. The reference decodes, letterboxes, runs the *source* ONNX and does its own NMS with OpenCV. The
detector's CLASS_SCORES (each class's best anchor, the output that carries the labels file) match it too.
"""

import asyncio
from pathlib import Path

import cv2
import numpy as np
import pytest
import tritonclient.grpc.aio as grpcclient

from orchestrator.contract import DETECTOR_INPUT, DETECTOR_MODEL, LETTERBOX, OUTPUT_CLASS_SCORES
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY
from orchestrator.triton.client import DetectionClient
from orchestrator.triton.detections import Detections
from orchestrator.vision.letterbox import letterbox
from tests.media import STILLS, VIDEOS, sampled_frames
from tests.reference_detector import ReferenceDetector

pytestmark = pytest.mark.integration
FRAMES_PER_VIDEO = 6


@pytest.fixture(scope="module")
def reference() -> ReferenceDetector:
    return ReferenceDetector(DEFAULT_MODEL_REPOSITORY / "detector" / "source.onnx")


def assert_same_detections(got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.shape == want.shape, f"{what}: {len(got)} detections, reference has {len(want)}:\n{got}\n{want}"
    np.testing.assert_array_equal(got[:, 5], want[:, 5], err_msg=f"{what}: classes differ")
    np.testing.assert_allclose(got[:, :4], want[:, :4], atol=1.0, rtol=0, err_msg=f"{what}: boxes differ")
    np.testing.assert_allclose(got[:, 4], want[:, 4], atol=1e-3, rtol=0, err_msg=f"{what}: scores differ")


def people(detections: Detections) -> Detections:
    """The detections the model's own labels (read from the server) name "person"."""
    return detections.subset(np.array([name == "person" for name in detections.class_names()], bool))


def rows(detections) -> np.ndarray:
    return np.column_stack([detections.boxes, detections.scores, detections.class_ids]).astype(np.float32)


def test_media_is_there() -> None:
    assert {p.name for p in STILLS} >= {"astronaut.png", "basketball1.png", "basketball2.png"}
    assert {p.name for p in VIDEOS} >= {"vtest.avi", "sports2d_demo.mp4"}


async def detect_letterboxed(client: DetectionClient, frame: np.ndarray) -> np.ndarray:
    boxed, plan = letterbox(frame, await client.input_size())
    return rows(await client.detect_letterboxed(boxed, plan))


@pytest.mark.parametrize("image", STILLS, ids=lambda p: p.name)
async def test_still_matches_reference_on_every_wire(grpc_url: str, reference: ReferenceDetector, image: Path) -> None:
    frame = cv2.imread(str(image), cv2.IMREAD_COLOR)
    want = reference(frame)
    assert len(want) > 0, f"reference finds nothing in {image.name}: the comparison would be empty"
    async with DetectionClient.connect(grpc_url) as ensemble, DetectionClient.connect(grpc_url, DETECTOR_MODEL) as det:
        encoded = await ensemble.detect_encoded(image.read_bytes())
        raw = await ensemble.detect_raw(frame)
        boxed = await detect_letterboxed(det, frame)
    assert_same_detections(rows(encoded), want, f"{image.name} (encoded)")
    assert_same_detections(rows(raw), want, f"{image.name} (raw)")
    assert_same_detections(boxed, want, f"{image.name} (letterboxed)")


@pytest.mark.parametrize("video", VIDEOS, ids=lambda p: p.name)
async def test_video_frames_match_reference(grpc_url: str, reference: ReferenceDetector, video: Path) -> None:
    frames = sampled_frames(video, FRAMES_PER_VIDEO)
    total = 0
    async with DetectionClient.connect(grpc_url) as ensemble, DetectionClient.connect(grpc_url, DETECTOR_MODEL) as det:
        for index, frame in frames:
            want = reference(frame)
            assert_same_detections(rows(await ensemble.detect_raw(frame)), want, f"{video.name} frame {index} (raw)")
            boxed = await detect_letterboxed(det, frame)
            assert_same_detections(boxed, want, f"{video.name} frame {index} (letterboxed)")
            total += len(want)
    assert total >= FRAMES_PER_VIDEO, f"{video.name}: only {total} detections over the sampled frames"


async def test_basketball_has_two_confident_people(grpc_url: str) -> None:
    image = next(p for p in STILLS if p.name == "basketball1.png")
    async with DetectionClient.connect(grpc_url) as client:
        await client.load_labels()
        found = people(await client.detect_encoded(image.read_bytes()))
    assert int((found.scores >= 0.5).sum()) >= 2, found.describe()


async def test_astronaut_is_one_person(grpc_url: str) -> None:
    image = next(p for p in STILLS if p.name == "astronaut.png")
    async with DetectionClient.connect(grpc_url) as client:
        await client.load_labels()
        detections = await client.detect_encoded(image.read_bytes())
    found = people(detections)
    assert len(found) == 1, detections.describe()
    x1, y1, x2, y2 = found.boxes[0]
    assert x2 - x1 > 200 and y2 - y1 > 300, "the astronaut fills most of the portrait"


async def served_class_scores(client: grpcclient.InferenceServerClient, frame: np.ndarray) -> np.ndarray:
    """(C,) the detector's CLASS_SCORES for one letterboxed frame."""
    boxed, plan = letterbox(frame, 416)
    inputs = [
        grpcclient.InferInput(DETECTOR_INPUT, [1, *boxed.shape], "UINT8"),
        grpcclient.InferInput(LETTERBOX, [1, 5], "FP32"),
    ]
    inputs[0].set_data_from_numpy(boxed[None])
    inputs[1].set_data_from_numpy(plan.as_array()[None])
    asked = [grpcclient.InferRequestedOutput(OUTPUT_CLASS_SCORES)]
    scores = (await client.infer(DETECTOR_MODEL, inputs, outputs=asked)).as_numpy(OUTPUT_CLASS_SCORES)
    assert scores is not None and scores.shape == (1, 80)
    return scores[0]


async def test_class_scores_match_reference(grpc_url: str, reference: ReferenceDetector) -> None:
    frames = [cv2.imread(str(image), cv2.IMREAD_COLOR) for image in STILLS]
    frames += [frame for video in VIDEOS for _, frame in sampled_frames(video, 2)]
    async with grpcclient.InferenceServerClient(grpc_url) as client:  # sent together: Triton batches them
        got = np.stack(await asyncio.gather(*(served_class_scores(client, frame) for frame in frames)))
    want = np.stack([reference.class_scores(frame) for frame in frames])
    assert got.shape == (len(frames), 80) and (want.max(axis=1) > 0.2).all(), "every frame shows some class"
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)
