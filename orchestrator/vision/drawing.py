"""Boxes and labels drawn for people to look at: the annotated video and ``pitchside detect --save``."""

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

Box = tuple[float, float, float, float]
"""(x1, y1, x2, y2) in the image's pixels."""


def draw_boxes(
    image: npt.NDArray[np.uint8], boxes: Sequence[Box], labels: Sequence[str], color_keys: Sequence[int]
) -> npt.NDArray[np.uint8]:
    """A copy of ``image`` with each box and its label; the same ``color_keys`` value always draws the same colour
    (a track id keeps its colour from frame to frame)."""
    canvas = image.copy()
    for box, label, key in zip(boxes, labels, color_keys, strict=True):
        color = key_color(key)
        x1, y1, x2, y2 = (round(v) for v in box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), color, 2)
        cv2.putText(canvas, label, (x1, max(12, y1 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, color, 1, cv2.LINE_AA)
    return canvas


def key_color(key: int) -> tuple[int, int, int]:
    """A BGR colour for ``key``, the same in every run: a track's box and its dot on the pitch radar share it."""
    b, g, r = (int(v) for v in np.random.default_rng(key).integers(64, 256, 3))
    return b, g, r
