from pathlib import Path

import cv2
import pytest

from orchestrator.bench.footage import FootageError, load_footage
from orchestrator.paths import MEDIA_DIR


def test_frames_come_from_the_bundled_footage_with_their_jpeg() -> None:
    footage = load_footage(MEDIA_DIR / "vtest.avi", 4)
    assert len(footage) == 4 and footage.frame_shape == (576, 768, 3)
    decoded = cv2.imdecode(footage.jpeg[3], cv2.IMREAD_COLOR)
    assert decoded.shape == footage.raw[3].shape
    assert abs(float(decoded.mean()) - float(footage.raw[3].mean())) < 2.0
    assert footage.mean_jpeg_bytes() < footage.raw[0].nbytes / 5


def test_an_image_gives_one_frame() -> None:
    assert len(load_footage(MEDIA_DIR / "astronaut.png", 10)) == 1


def test_missing_footage_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FootageError, match="does not exist"):
        load_footage(tmp_path / "none.avi", 1)


def test_undecodable_footage_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "noise.avi"
    path.write_bytes(b"not a video")
    with pytest.raises(FootageError, match="no frame"):
        load_footage(path, 1)
