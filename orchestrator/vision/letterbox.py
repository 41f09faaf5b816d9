"""Centred letterbox: resize keeping the aspect ratio, pad to a square, and map boxes back."""

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

PAD_VALUE = 0
"""Pad value the NanoDet/YOLO detectors were trained with (black)."""


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


def to_chw_float(letterboxed: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """(S, S, 3) uint8 HWC BGR -> (3, S, S) float32 CHW BGR in 0..255, contiguous."""
    return np.ascontiguousarray(letterboxed.transpose(2, 0, 1), dtype=np.float32)


def unletterbox_boxes(boxes: npt.NDArray[np.float32], plan: Letterbox) -> npt.NDArray[np.float32]:
    """Map (N, 4) x1, y1, x2, y2 boxes from detector-input pixels to source pixels, clipped to the frame."""
    out = np.empty_like(boxes, dtype=np.float32)
    out[:, [0, 2]] = (boxes[:, [0, 2]] - plan.pad_x) / plan.scale
    out[:, [1, 3]] = (boxes[:, [1, 3]] - plan.pad_y) / plan.scale
    out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, plan.source_width)
    out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, plan.source_height)
    return out


def _scaled_size(width: int, height: int, scale: float, size: int) -> tuple[int, int]:
    return min(size, max(1, round(width * scale))), min(size, max(1, round(height * scale)))
