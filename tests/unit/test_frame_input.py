import cv2
import numpy as np
import pytest

from orchestrator.vision.frame_input import MAX_FRAME_SIDE, FrameError, decode_image_bytes, validate_raw_frame
from orchestrator.vision.preprocess import preprocess


def encode(image: np.ndarray, ext: str = ".png") -> np.ndarray:
    ok, data = cv2.imencode(ext, image)
    assert ok
    return data.reshape(-1)


def test_png_and_jpeg_decode_to_bgr() -> None:
    image = np.zeros((20, 30, 3), np.uint8)
    image[:, :, 2] = 255  # red in BGR
    assert decode_image_bytes(encode(image)).tolist() == image.tolist()
    assert decode_image_bytes(encode(image, ".jpg"))[10, 15, 2] > 240


def test_grayscale_png_becomes_three_channels() -> None:
    gray = np.full((8, 8), 77, np.uint8)
    decoded = decode_image_bytes(encode(gray))
    assert decoded.shape == (8, 8, 3) and (decoded == 77).all()


@pytest.mark.parametrize(
    ("data", "message"),
    [(np.zeros(0, np.uint8), "empty"), (np.frombuffer(b"hello world", np.uint8), "not an image OpenCV can decode")],
)
def test_undecodable_bytes(data: np.ndarray, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        decode_image_bytes(data)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (np.zeros((10, 10, 3), np.float32), "must be uint8"),
        (np.zeros((10, 10), np.uint8), r"\(height, width, 3\)"),
        (np.zeros((10, 10, 4), np.uint8), r"\(height, width, 3\)"),
        (np.zeros((0, 10, 3), np.uint8), "empty"),
        (np.zeros((MAX_FRAME_SIDE + 1, 1, 3), np.uint8), "above the limit"),
    ],
)
def test_bad_raw_frames(frame: np.ndarray, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        validate_raw_frame(frame)


def test_preprocess_needs_exactly_one_input() -> None:
    frame = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(FrameError, match="exactly one"):
        preprocess(None, None, 416)
    with pytest.raises(FrameError, match="exactly one"):
        preprocess(encode(frame), frame, 416)


def test_preprocess_encoded_and_raw_agree() -> None:
    frame = np.random.default_rng(1).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    from_raw, plan_raw = preprocess(None, frame, 416)
    from_png, plan_png = preprocess(encode(frame), None, 416)
    assert plan_raw == plan_png
    np.testing.assert_array_equal(from_raw, from_png)
    assert from_raw.shape == (416, 416, 3) and from_raw.dtype == np.uint8
