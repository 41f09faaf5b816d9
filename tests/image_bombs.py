"""Decompression bombs: small, valid files whose headers declare enormous images."""

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np

BOMB_SIDE = 30_000
"""The size from the report: 30000 x 30000 decodes into 2.7 GB of BGR."""
JPEG_BOMB_SIDE = 8000
"""Within the 8192-per-side limit: 192 MB of BGR and about 0.6 s of decoding from some 630 bytes."""


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(side: int = BOMB_SIDE) -> bytes:
    """A valid 1-bit greyscale PNG of ``side`` x ``side`` black pixels; about 110 KB for 30000."""
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def write_png_bomb(path: Path, side: int = BOMB_SIDE) -> Path:
    path.write_bytes(png_bomb(side))
    return path


def jpeg_bomb(side: int = JPEG_BOMB_SIDE) -> bytes:
    """An 8x8 black JPEG whose frame header is rewritten to declare ``side`` x ``side``: about 630 bytes.

    libjpeg decodes it anyway ("premature end of data segment") and fills every missing block, so the decoder
    allocates and computes the whole declared image."""
    ok, encoded = cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))
    assert ok
    data = bytearray(encoded.tobytes())
    offset = 2
    while data[offset + 1] not in (0xC0, 0xC2):  # walk the segments to the start-of-frame header
        offset += 2 + struct.unpack(">H", data[offset + 2 : offset + 4])[0]
    data[offset + 5 : offset + 9] = struct.pack(">HH", side, side)
    return bytes(data)
