"""Centred letterbox: resize keeping the aspect ratio, pad to a square, and map boxes back."""

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from orchestrator.vision.frame_input import MAX_FRAME_SIDE

PAD_VALUE = 0
"""Pad value the NanoDet/YOLO detectors were trained with (black)."""
MAX_UPSCALE = 1024.0
"""Largest scale a letterbox can have: a 1-pixel-wide frame placed in a 1024 input."""


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How a source frame was placed into the square detector input.

    ``input_xy = source_xy * scale + (pad_x, pad_y)``.
    """

    scale: float
    pad_x: int
    pad_y: int
    source_width: int
    source_height: int

    def as_array(self) -> npt.NDArray[np.float32]:
        """(5,) float32 as (scale, pad_x, pad_y, source_width, source_height): the LETTERBOX tensor."""
        return np.array([self.scale, self.pad_x, self.pad_y, self.source_width, self.source_height], dtype=np.float32)

    @classmethod
    def from_array(cls, values: npt.NDArray[np.float32]) -> "Letterbox":
        scale, pad_x, pad_y, width, height = (float(v) for v in np.asarray(values).reshape(5))
        return cls(scale, round(pad_x), round(pad_y), round(width), round(height))


def plan_letterbox(source_width: int, source_height: int, size: int) -> Letterbox:
    """The scale and integer padding that centre a ``source_width x source_height`` frame in ``size x size``."""
    scale = min(size / source_width, size / source_height)
    new_w, new_h = _scaled_size(source_width, source_height, scale, size)
    return Letterbox(scale, (size - new_w) // 2, (size - new_h) // 2, source_width, source_height)


def letterbox(frame: npt.NDArray[np.uint8], size: int) -> tuple[npt.NDArray[np.uint8], Letterbox]:
    """Letterbox an (H, W, 3) uint8 frame into (size, size, 3) uint8, bilinear resize, pad with PAD_VALUE."""
    height, width = frame.shape[:2]
    plan = plan_letterbox(width, height, size)
    new_w, new_h = _scaled_size(width, height, plan.scale, size)
    canvas = np.full((size, size, 3), PAD_VALUE, dtype=np.uint8)
    resized = (
        frame
        if (new_w, new_h) == (width, height)
        else cv2.resize(frame, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    )
    canvas[plan.pad_y : plan.pad_y + new_h, plan.pad_x : plan.pad_x + new_w] = resized
    return canvas, plan


def letterbox_problem(values: npt.NDArray[np.float32], size: int) -> str | None:
    """Why a client-sent (5,) LETTERBOX cannot be right for a ``size`` input, or None when it can."""
    scale, pad_x, pad_y, width, height = (float(v) for v in np.asarray(values, dtype=np.float64).reshape(5))
    if not all(np.isfinite([scale, pad_x, pad_y, width, height])):
        return "LETTERBOX holds a non-finite value"
    if not 0.0 < scale <= MAX_UPSCALE:
        return f"LETTERBOX scale {scale} is outside (0, {MAX_UPSCALE}]"
    if not (0 <= pad_x < size and 0 <= pad_y < size):
        return f"LETTERBOX padding ({pad_x}, {pad_y}) is outside the {size}x{size} input"
    if not (1 <= width <= MAX_FRAME_SIDE and 1 <= height <= MAX_FRAME_SIDE):
        return f"LETTERBOX source size {width}x{height} is outside 1..{MAX_FRAME_SIDE} pixels per side"
    return None


def _scaled_size(width: int, height: int, scale: float, size: int) -> tuple[int, int]:
    return min(size, max(1, round(width * scale))), min(size, max(1, round(height * scale)))
