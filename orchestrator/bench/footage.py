"""Frames for the benchmark, decoded once from real footage before any clock starts."""

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from orchestrator.triton.wire import encode_jpeg

"""A broadcast-contribution-like quality: artefacts invisible to the detector, size ~10x below raw."""


class FootageError(ValueError):
    """The footage cannot be opened or holds no frames."""


@dataclass(frozen=True)
class Footage:
    """``raw[i]``: (H, W, 3) uint8 BGR; ``jpeg[i]``: the same frame JPEG-encoded, 1-D uint8."""

    name: str
    raw: tuple[npt.NDArray[np.uint8], ...]
    jpeg: tuple[npt.NDArray[np.uint8], ...]

    def __len__(self) -> int:
        return len(self.raw)

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        height, width, channels = self.raw[0].shape
        return int(height), int(width), int(channels)

    def mean_jpeg_bytes(self) -> float:
        return float(np.mean([data.size for data in self.jpeg]))


def load_footage(path: Path, count: int, size: tuple[int, int] | None = None) -> Footage:
    """The first ``count`` frames of the video (or image) at ``path``, each also JPEG-encoded; ``size``
    (width, height) resizes them, e.g. to measure what a 1080p camera costs with smaller footage."""
    if count < 1:
        raise FootageError(f"need at least one frame, asked for {count}")
    raw = tuple(_read_frames(path, count))
    if size is not None:
        raw = tuple(np.ascontiguousarray(cv2.resize(f, size, interpolation=cv2.INTER_LINEAR)) for f in raw)
    if not raw:
        raise FootageError(f"no frame could be decoded from {path.name}")
    return Footage(path.name, raw, tuple(encode_jpeg(frame) for frame in raw))


def _read_frames(path: Path, count: int) -> list[npt.NDArray[np.uint8]]:
    if not path.is_file():
        raise FootageError(f"footage {path} does not exist")
    capture = cv2.VideoCapture(str(path))
    try:
        frames: list[npt.NDArray[np.uint8]] = []
        while len(frames) < count:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(np.ascontiguousarray(frame, dtype=np.uint8))
        return frames
    finally:
        capture.release()
