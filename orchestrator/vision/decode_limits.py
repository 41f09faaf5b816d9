"""The one decode-limits policy: how large an image or video frame pitchside agrees to decode.

An encoded image states its size in its header, and decoding allocates width x height x 3 bytes whatever the
file's own size: a 109 KB PNG declaring 30000 x 30000 pixels decodes into 2.7 GB. So the size is read from the
header first (PNG, JPEG, BMP, GIF, WebP, TIFF; a few dozen bytes, no decoding) and checked against the limits,
and only then is the image decoded. A format whose size cannot be read this way is not decoded at all.

A size within the limits can still be a bomb: a 631-byte JPEG declaring 8000 x 8000 is decoded anyway (libjpeg
fills the missing blocks) into 192 MB in about 0.6 s of CPU, 400,000 times what a real frame costs per byte
received. So an image larger than a Full HD frame must also bring at least one encoded byte per
MAX_PIXELS_PER_BYTE pixels it declares.

Whoever decodes (the orchestrator's image-folder source and video readers, the ``preprocess`` model for frames
sent to Triton) uses :func:`check_size` / :func:`check_encoded` / :func:`decode_image_file` from here, so the
limits are one set.
"""

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

MAX_IMAGE_SIDE: Final = 8192
"""Largest width or height in pixels (8K UHD is 7680 x 4320); the same limit the models apply."""
MAX_IMAGE_PIXELS: Final = MAX_IMAGE_SIDE * MAX_IMAGE_SIDE
"""Largest width x height: 64 Mpx, about 200 MB once decoded as BGR."""
MAX_ENCODED_BYTES: Final = 64 * 1024 * 1024
"""Largest encoded image read into memory; an 8K PNG is well under this."""
MAX_PIXELS_PER_BYTE: Final = 4096
"""Most pixels an encoded image may declare per byte of its file (above FREE_PIXELS). Real pictures stay far
below: a Huffman-coded JPEG spends at least one bit per 8x8 block in a scan, 512 pixels per byte at the very most
(a black progressive greyscale 4K JPEG: 254; a black 4K JPEG from OpenCV's defaults: 64); deflate compresses at
most 1032:1, so an 8-bit PNG stays under 1032 (black 4K: 1020 greyscale, 342 BGR). Only near-blank 1-bit PNGs
(up to ~8000) and lossless WebP (a black 4K frame: 21,000) go over it, and they hold nothing to detect. The
631-byte bomb of 8000 x 8000 declares 101,000."""
FREE_PIXELS: Final = 1920 * 1080
"""Up to one Full HD frame the bytes-per-pixel budget does not apply: decoding it costs what a normal frame does."""

_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (baseline, extended, progressive, lossless, arithmetic): they carry the size.
_JPEG_SOF: Final = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
# Markers without a length field.
_JPEG_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD9)})
_TIFF_WIDTH, _TIFF_HEIGHT = 256, 257


class DecodeLimitError(ValueError):
    """An image or video the decode limits refuse; the message says what it declared and the limit."""


@dataclass(frozen=True, slots=True)
class ImageSize:
    width: int
    height: int


def check_size(width: int, height: int, what: str) -> None:
    """Raise DecodeLimitError when ``what`` (named in the message) declares a size outside the limits."""
    if width <= 0 or height <= 0:
        raise DecodeLimitError(f"{what} declares an empty size {width}x{height}")
    if max(width, height) > MAX_IMAGE_SIDE or width * height > MAX_IMAGE_PIXELS:
        raise DecodeLimitError(
            f"{what} declares {width}x{height} pixels, above the decode limit of {MAX_IMAGE_SIDE} per side "
            f"and {MAX_IMAGE_PIXELS} in all"
        )


def check_encoded(data: bytes, what: str) -> ImageSize:
    """The size ``data`` declares, once it is known to be within the limits (else DecodeLimitError)."""
    if len(data) > MAX_ENCODED_BYTES:
        raise DecodeLimitError(f"{what} is {len(data)} bytes, above the limit of {MAX_ENCODED_BYTES}")
    size = declared_size(data)
    if size is None:
        raise DecodeLimitError(
            f"{what}: not an image pitchside decodes (no PNG, JPEG, BMP, GIF, WebP or TIFF header stating its size)"
        )
    check_size(size.width, size.height, what)
    check_pixels_per_byte(size, len(data), what)
    return size


def check_pixels_per_byte(size: ImageSize, encoded_bytes: int, what: str) -> None:
    """Raise DecodeLimitError when ``what`` declares more pixels than its ``encoded_bytes`` can hold in a real
    picture (above FREE_PIXELS, more than MAX_PIXELS_PER_BYTE per byte): a decompression bomb."""
    pixels = size.width * size.height
    if pixels > FREE_PIXELS and pixels > MAX_PIXELS_PER_BYTE * encoded_bytes:
        raise DecodeLimitError(
            f"{what} declares {size.width}x{size.height} pixels in only {encoded_bytes} bytes, above the decode "
            f"limit of {MAX_PIXELS_PER_BYTE} pixels per encoded byte for images over {FREE_PIXELS} pixels"
        )


def decode_image_file(path: Path) -> npt.NDArray[np.uint8]:
    """Decode ``path`` as an (H, W, 3) uint8 BGR image after its header passed the limits.

    Raises DecodeLimitError (outside the limits, or no readable header) or ValueError (not decodable)."""
    if path.stat().st_size > MAX_ENCODED_BYTES:
        raise DecodeLimitError(f"{path.name} is {path.stat().st_size} bytes, above the limit of {MAX_ENCODED_BYTES}")
    data = path.read_bytes()
    check_encoded(data, path.name)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path.name}: not a decodable image")
    return np.asarray(image, dtype=np.uint8)


def declared_size(data: bytes) -> ImageSize | None:
    """The width and height an encoded image's header declares, without decoding; None when the format is not
    one of PNG, JPEG, BMP, GIF, WebP, TIFF or the header is cut short."""
    try:
        for parse in (_png, _jpeg, _gif, _bmp, _webp, _tiff):
            size = parse(data)
            if size is not None:
                return size
    except (struct.error, IndexError):
        return None
    return None


def _png(data: bytes) -> ImageSize | None:
    if not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return ImageSize(width, height)


def _jpeg(data: bytes) -> ImageSize | None:
    if not data.startswith(b"\xff\xd8"):
        return None
    offset = 2
    while offset + 4 <= len(data):
        if data[offset] != 0xFF:
            return None
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        if marker in _JPEG_STANDALONE:
            offset += 2
            continue
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
            return ImageSize(width, height)
        if marker == 0xDA:  # start of scan before any frame header
            return None
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        offset += 2 + length
    return None


def _gif(data: bytes) -> ImageSize | None:
    if data[:6] not in (b"GIF87a", b"GIF89a"):
        return None
    width, height = struct.unpack("<HH", data[6:10])
    return ImageSize(width, height)


def _bmp(data: bytes) -> ImageSize | None:
    if not data.startswith(b"BM"):
        return None
    (header,) = struct.unpack("<I", data[14:18])
    if header == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes
        width, height = struct.unpack("<HH", data[18:22])
    else:
        width, height = struct.unpack("<ii", data[18:26])
    return ImageSize(width, abs(height))  # a negative height means top-down rows


def _webp(data: bytes) -> ImageSize | None:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    chunk = data[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return ImageSize(width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L":
        (bits,) = struct.unpack("<I", data[21:25])
        return ImageSize((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return ImageSize(width, height)
    return None


def _tiff(data: bytes) -> ImageSize | None:
    """Width and height tags of the first image file directory (the page OpenCV decodes)."""
    if data[:4] == b"II*\x00":
        order = "<"
    elif data[:4] == b"MM\x00*":
        order = ">"
    else:
        return None
    (ifd,) = struct.unpack(order + "I", data[4:8])
    (count,) = struct.unpack(order + "H", data[ifd : ifd + 2])
    found: dict[int, int] = {}
    for entry in range(count):
        at = ifd + 2 + 12 * entry
        tag, kind = struct.unpack(order + "HH", data[at : at + 4])
        if tag in (_TIFF_WIDTH, _TIFF_HEIGHT):
            value_format = "H" if kind == 3 else "I"  # SHORT or LONG, left-justified in the value field
            (found[tag],) = struct.unpack(order + value_format, data[at + 8 : at + 8 + struct.calcsize(value_format)])
    if _TIFF_WIDTH in found and _TIFF_HEIGHT in found:
        return ImageSize(found[_TIFF_WIDTH], found[_TIFF_HEIGHT])
    return None
