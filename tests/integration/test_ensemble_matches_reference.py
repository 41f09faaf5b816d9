"""Every wire's detections equal an independent in-process reference on the researcher's source graph.

Encoded and raw frames go through the ensemble (Python preprocess -> served graph); letterboxed frames go straight
to the detector. The reference decodes, letterboxes, runs the *source* ONNX and does its own NMS with OpenCV.
"""

from pathlib import Path

import cv2
import numpy as np
import pytest

from orchestrator.contract import DETECTOR_MODEL
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY
from orchestrator.triton.client import DetectionClient
from orchestrator.vision.coco import PERSON
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
        people = (await client.detect_encoded(image.read_bytes())).of_class(PERSON)
    assert int((people.scores >= 0.5).sum()) >= 2, people.describe()


async def test_astronaut_is_one_person(grpc_url: str) -> None:
    image = next(p for p in STILLS if p.name == "astronaut.png")
    async with DetectionClient.connect(grpc_url) as client:
        detections = await client.detect_encoded(image.read_bytes())
    people = detections.of_class(PERSON)
    assert len(people) == 1, detections.describe()
    x1, y1, x2, y2 = people.boxes[0]
    assert x2 - x1 > 200 and y2 - y1 > 300, "the astronaut fills most of the portrait"
