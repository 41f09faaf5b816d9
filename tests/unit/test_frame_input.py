import cv2
import numpy as np
import pytest

from orchestrator.paths import MEDIA_DIR
from orchestrator.vision.frame_input import MAX_FRAME_SIDE, FrameError, decode_image_bytes, validate_raw_frame
from orchestrator.vision.preprocess import preprocess, preprocess_batch
from tests.image_bombs import jpeg_bomb, png_bomb


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


def as_array(data: bytes) -> np.ndarray:
    return np.frombuffer(data, np.uint8)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.zeros(0, np.uint8), "empty"),
        (as_array(b"hello world"), r"encoded image: not an image pitchside decodes \(no PNG, JPEG"),
        (as_array((MEDIA_DIR / "astronaut.png").read_bytes()[:200]), r"\(200 bytes\) is not an image that decodes"),
        (as_array(png_bomb()), "declares 30000x30000 pixels, above the decode limit of 8192 per side"),
        (as_array(jpeg_bomb()), "declares 8000x8000 pixels in only 631 bytes, above the decode limit of 4096 pixels"),
    ],
)
def test_undecodable_or_oversized_bytes_name_the_reason_or_limit(data: np.ndarray, message: str) -> None:
    with pytest.raises(FrameError, match=message) as refused:
        decode_image_bytes(data)
    assert "cv::" not in str(refused.value) and "OpenCV" not in str(refused.value)


def test_opencv_refusals_become_a_frame_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise cv2.error("OpenCV(4.10.0) /io/opencv/modules/imgcodecs/src/loadsave.cpp:77: error: (-215:Assertion")

    monkeypatch.setattr(cv2, "imdecode", refuse)
    with pytest.raises(FrameError, match="not an image that decodes") as refused:
        decode_image_bytes(encode(np.zeros((4, 4, 3), np.uint8)))
    assert "loadsave" not in str(refused.value)


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


def test_a_batch_of_frames_is_letterboxed_item_by_item() -> None:
    frames = np.random.default_rng(2).integers(0, 255, (3, 48, 64, 3), dtype=np.uint8)
    boxed, plans = preprocess_batch(None, frames, 416)
    assert boxed.shape == (3, 416, 416, 3) and plans.shape == (3, 5) and plans.dtype == np.float32
    for index, frame in enumerate(frames):
        one, plan = preprocess(None, frame, 416)
        np.testing.assert_array_equal(boxed[index], one)
        np.testing.assert_array_equal(plans[index], plan.as_array())


def test_a_bad_item_in_a_batch_is_named_by_its_position() -> None:
    good = encode(np.zeros((48, 64, 3), np.uint8), ".jpg")
    bomb = as_array(jpeg_bomb())
    width = max(good.size, bomb.size)  # one (B, L) tensor: trailing zeros after the image, as a client pads
    batch = np.zeros((8, width), np.uint8)
    for index in range(8):
        item = bomb if index == 2 else good
        batch[index, : item.size] = item
    with pytest.raises(FrameError, match=r"^item 3 of 8 \(batch index 2\): encoded image declares 8000x8000"):
        preprocess_batch(batch, None, 416)
    boxed, _ = preprocess_batch(batch[[0, 1, 3]], None, 416)
    assert boxed.shape == (3, 416, 416, 3)


def test_a_single_frame_request_is_not_called_an_item() -> None:
    with pytest.raises(FrameError, match=r"^raw frame is empty"):
        preprocess_batch(None, np.zeros((1, 0, 0, 3), np.uint8), 416)
    with pytest.raises(FrameError, match="holds no frame"):
        preprocess_batch(None, np.zeros((0, 4, 4, 3), np.uint8), 416)
    with pytest.raises(FrameError, match="exactly one"):
        preprocess_batch(None, None, 416)
