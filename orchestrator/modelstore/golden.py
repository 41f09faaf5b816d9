"""Golden frames: the stills and sampled video frames every built model is judged on."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from orchestrator.paths import MEDIA_DIR

STILL_SUFFIXES: Final = (".png", ".jpg", ".jpeg")
VIDEO_SUFFIXES: Final = (".avi", ".mp4", ".mkv", ".mov")
FRAMES_PER_VIDEO: Final = 8


@dataclass(frozen=True)
class GoldenFrame:
    name: str
    """Where it came from: ``astronaut.png`` or ``vtest.avi#120``."""
    image: npt.NDArray[np.uint8]
    """(H, W, 3) uint8 BGR."""


def load_golden(directory: Path = MEDIA_DIR, frames_per_video: int = FRAMES_PER_VIDEO) -> list[GoldenFrame]:
    """Every still in ``directory`` and ``frames_per_video`` frames spread evenly over each video in it."""
    if not directory.is_dir():
        raise FileNotFoundError(f"golden frame directory {directory} does not exist")
    frames: list[GoldenFrame] = []
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() in STILL_SUFFIXES:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is not None:
                frames.append(GoldenFrame(path.name, np.ascontiguousarray(image)))
        elif path.suffix.lower() in VIDEO_SUFFIXES:
            frames += _video_frames(path, frames_per_video)
    if not frames:
        raise FileNotFoundError(f"no still or video in {directory} could be decoded")
    return frames


def _video_frames(path: Path, count: int) -> Sequence[GoldenFrame]:
    capture = cv2.VideoCapture(str(path))
    try:
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        wanted = {int(i) for i in np.linspace(0, max(total - 1, 0), count)} if total > 0 else set()
        frames, index = [], 0
        while wanted and index <= max(wanted):
            ok, image = capture.read()
            if not ok:
                break
            if index in wanted:
                frames.append(GoldenFrame(f"{path.name}#{index}", np.ascontiguousarray(image)))
            index += 1
        return frames
    finally:
        capture.release()
