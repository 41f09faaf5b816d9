"""Decompression bombs: small, valid files whose headers declare enormous images."""

import struct
import zlib
from pathlib import Path

BOMB_SIDE = 30_000
"""The size from the report: 30000 x 30000 decodes into 2.7 GB of BGR."""


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
