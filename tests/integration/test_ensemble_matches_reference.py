"""The ensemble's detections equal an independent in-process reference, frame by frame."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from orchestrator.paths import DEFAULT_MODEL_REPOSITORY
from orchestrator.triton.client import DetectionClient
from orchestrator.vision.coco import PERSON
from tests.media import STILLS, VIDEOS, sampled_frames
from tests.reference_detector import ReferenceDetector

pytestmark = pytest.mark.integration
FRAMES_PER_VIDEO = 6


@pytest.fixture(scope="module")
def reference() -> ReferenceDetector:
    return ReferenceDetector(DEFAULT_MODEL_REPOSITORY / "detector" / "1" / "model.onnx")


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


@pytest.mark.parametrize("image", STILLS, ids=lambda p: p.name)
async def test_still_encoded_and_raw_match_reference(grpc_url: str, reference: ReferenceDetector, image: Path) -> None:
    frame = cv2.imread(str(image), cv2.IMREAD_COLOR)
    want = reference(frame)
    assert len(want) > 0, f"reference finds nothing in {image.name}: the comparison would be empty"
    async with DetectionClient.connect(grpc_url) as client:
        encoded = await client.detect_encoded(image.read_bytes())
        raw = await client.detect_raw(frame)
    assert_same_detections(rows(encoded), want, f"{image.name} (encoded)")
    assert_same_detections(rows(raw), want, f"{image.name} (raw)")


@pytest.mark.parametrize("video", VIDEOS, ids=lambda p: p.name)
async def test_video_frames_match_reference(grpc_url: str, reference: ReferenceDetector, video: Path) -> None:
    frames = sampled_frames(video, FRAMES_PER_VIDEO)
    total = 0
    async with DetectionClient.connect(grpc_url) as client:
        for index, frame in frames:
            want = reference(frame)
            got = rows(await client.detect_raw(frame))
            assert_same_detections(got, want, f"{video.name} frame {index}")
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
