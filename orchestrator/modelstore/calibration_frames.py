"""Letterboxed frames for TensorRT's tools: int8 calibration data and the ONNX Runtime vs TensorRT parity inputs.

Frames are letterboxed exactly as the orchestrator sends them to the detector (``images`` uint8 (N, S, S, 3)
BGR, ``LETTERBOX`` float32 (N, 5)), saved with the batch size, and handed to polygraphy through a copy of
``frames_loader.py`` beside them.
"""

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from orchestrator.contract import DETECTOR_INPUT, LETTERBOX
from orchestrator.modelstore import frames_loader
from orchestrator.modelstore.golden import GoldenFrame
from orchestrator.vision.letterbox import letterbox

LOADER_FILE: Final = "load_frames.py"


@dataclass(frozen=True)
class LetterboxedFrames:
    images: npt.NDArray[np.uint8]
    """(N, S, S, 3) uint8 letterboxed BGR."""
    letterboxes: npt.NDArray[np.float32]
    """(N, 5) float32 as (scale, pad_x, pad_y, source_width, source_height)."""

    @classmethod
    def of(cls, frames: Sequence[GoldenFrame], size: int) -> "LetterboxedFrames":
        if not frames:
            raise ValueError("no frames to letterbox")
        pairs = [letterbox(frame.image, size) for frame in frames]
        return cls(np.stack([image for image, _ in pairs]), np.stack([plan.as_array() for _, plan in pairs]))

    def feeds(self) -> dict[str, npt.NDArray[np.generic]]:
        """The detector's inputs by name."""
        return {DETECTOR_INPUT: self.images, LETTERBOX: self.letterboxes}


def write_frames(frames: LetterboxedFrames, directory: Path, batch: int) -> Path:
    """Save the frames and the loader into ``directory``; the loader script's path, for ``--data-loader-script``."""
    frames_loader.batch_indices(len(frames.images), batch)  # refuses an empty set or a batch below 1 here
    directory.mkdir(parents=True, exist_ok=True)
    np.savez(directory / frames_loader.FRAMES_FILE, **frames.feeds(), **{frames_loader.BATCH_KEY: np.int64(batch)})
    loader = directory / LOADER_FILE
    shutil.copyfile(Path(frames_loader.__file__), loader)
    return loader
