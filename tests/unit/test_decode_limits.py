"""The decode-limits policy reads sizes from headers and refuses oversized images before decoding them."""

import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from orchestrator.paths import MEDIA_DIR
from orchestrator.sources.capture import FrameDecodeError, ImageDirectoryReader
from orchestrator.vision.decode_limits import (
    FREE_PIXELS,
    MAX_IMAGE_SIDE,
    MAX_PIXELS_PER_BYTE,
    DecodeLimitError,
    ImageSize,
    check_encoded,
    check_pixels_per_byte,
    check_size,
    declared_size,
    decode_image_file,
)
from tests.image_bombs import BOMB_SIDE, JPEG_BOMB_SIDE, jpeg_bomb, png_bomb


def encoded(suffix: str, width: int = 37, height: int = 21, params: list[int] | None = None) -> bytes:
    image = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    ok, data = cv2.imencode(suffix, image, params or [])
    assert ok
    return data.tobytes()


@pytest.mark.parametrize(
    ("suffix", "params"),
    [
        (".png", None),
        (".jpg", None),
        (".jpg", [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]),
        (".bmp", None),
        (".webp", None),
        (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101]),  # lossless: VP8L
        (".tiff", None),
    ],
)
def test_header_size_matches_what_opencv_decodes(suffix: str, params: list[int] | None) -> None:
    data = encoded(suffix, params=params)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert declared_size(data) == ImageSize(decoded.shape[1], decoded.shape[0]) == ImageSize(37, 21)


def test_gif_and_big_endian_tiff_headers() -> None:
    assert declared_size(b"GIF89a" + struct.pack("<HH", 640, 480) + b"\x00" * 8) == ImageSize(640, 480)
    ifd = struct.pack(">H", 2) + struct.pack(">HHIHH", 256, 3, 1, 1920, 0) + struct.pack(">HHII", 257, 4, 1, 1080)
    assert declared_size(b"MM\x00*" + struct.pack(">I", 8) + ifd) == ImageSize(1920, 1080)


def test_the_bomb_is_refused_from_its_header() -> None:
    bomb = png_bomb()
    assert len(bomb) < 200_000
    assert declared_size(bomb) == ImageSize(BOMB_SIDE, BOMB_SIDE)
    with pytest.raises(DecodeLimitError, match="30000x30000 pixels, above the decode limit of 8192"):
        check_encoded(bomb, "bomb.png")


def test_limits_per_side_and_in_all() -> None:
    check_size(MAX_IMAGE_SIDE, MAX_IMAGE_SIDE, "8k square")
    for width, height in ((MAX_IMAGE_SIDE + 1, 10), (10, MAX_IMAGE_SIDE + 1), (0, 10)):
        with pytest.raises(DecodeLimitError):
            check_size(width, height, "x")


@pytest.mark.parametrize(
    "data", [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0\x00", b"P6\n30000 30000\n255\n", b"junk"]
)
def test_unknown_or_truncated_headers_are_not_decoded(data: bytes) -> None:
    assert declared_size(data) is None
    with pytest.raises(DecodeLimitError, match=r"x: not an image pitchside decodes \(no PNG, JPEG.* its size\)"):
        check_encoded(data, "x")


def test_a_jpeg_bomb_within_the_side_limits_is_refused_by_its_pixels_per_byte() -> None:
    bomb = jpeg_bomb()
    assert len(bomb) < 700 and declared_size(bomb) == ImageSize(JPEG_BOMB_SIDE, JPEG_BOMB_SIDE)
    check_size(JPEG_BOMB_SIDE, JPEG_BOMB_SIDE, "within the side and pixel limits")
    with pytest.raises(
        DecodeLimitError, match=rf"declares 8000x8000 pixels in only {len(bomb)} bytes, above the decode limit of 4096 "
    ):
        check_encoded(bomb, "bomb.jpg")


def test_pixels_per_byte_budget_boundaries() -> None:
    check_pixels_per_byte(ImageSize(FREE_PIXELS, 1), 1, "free")  # up to a Full HD frame's pixels: no budget
    with pytest.raises(DecodeLimitError):
        check_pixels_per_byte(ImageSize(FREE_PIXELS + 1, 1), 1, "one pixel over")
    check_pixels_per_byte(ImageSize(MAX_PIXELS_PER_BYTE, 1000), 1000, "exactly at the budget")
    with pytest.raises(DecodeLimitError, match="4096 pixels per encoded byte for images over 2073600 pixels"):
        check_pixels_per_byte(ImageSize(MAX_PIXELS_PER_BYTE + 1, 1000), 1000, "one pixel over")


@pytest.mark.parametrize(
    ("suffix", "image", "params"),
    [
        (".jpg", np.zeros((2160, 3840, 3), np.uint8), []),  # black 4K: 64 pixels per byte
        (".jpg", np.zeros((2160, 3840), np.uint8), [cv2.IMWRITE_JPEG_PROGRESSIVE, 1, cv2.IMWRITE_JPEG_OPTIMIZE, 1]),
        (".png", np.zeros((2160, 3840, 3), np.uint8), [cv2.IMWRITE_PNG_COMPRESSION, 9]),
        (".png", np.zeros((2160, 3840), np.uint8), [cv2.IMWRITE_PNG_COMPRESSION, 9]),  # 1020, deflate's ceiling
        (".webp", np.zeros((1080, 1920, 3), np.uint8), [cv2.IMWRITE_WEBP_QUALITY, 101]),  # Full HD: budget free
    ],
)
def test_the_most_compressible_real_pictures_pass_the_budget(suffix: str, image: np.ndarray, params: list[int]) -> None:
    ok, data = cv2.imencode(suffix, image, params)
    assert ok
    assert check_encoded(data.tobytes(), "blank") == ImageSize(image.shape[1], image.shape[0])


def test_real_stills_pass_the_limits() -> None:
    for path in sorted(MEDIA_DIR.glob("*.png")):
        size = check_encoded(path.read_bytes(), path.name)
        for suffix in (".png", ".jpg"):
            ok, data = cv2.imencode(suffix, cv2.resize(cv2.imread(str(path)), (3840, 2160)))
            assert ok and check_encoded(data.tobytes(), path.name) == ImageSize(3840, 2160), size


def test_image_folder_fails_the_bomb_frame_only(tmp_path: Path) -> None:
    (tmp_path / "a-bomb.png").write_bytes(png_bomb())
    (tmp_path / "b-fine.jpg").write_bytes(encoded(".jpg", 64, 48))
    reader = ImageDirectoryReader(tmp_path)
    with pytest.raises(FrameDecodeError, match=r"a-bomb\.png declares 30000x30000"):
        reader.read()
    fine = reader.read()
    assert fine is not None and fine.shape == (48, 64, 3)
    assert reader.read() is None


def test_decode_image_file_decodes_within_limits(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(encoded(".png", 10, 7))
    assert decode_image_file(path).shape == (7, 10, 3)
