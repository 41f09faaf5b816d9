"""Decode YOLOv8-layout detector output into candidate boxes.

The layout is shared by YOLOv8/YOLO11 exports (8400 anchors at 640) and the bundled NanoDet export
(3549 anchors at 416): rows 0-3 are box centre x, centre y, width, height in detector-input pixels,
rows 4.. are per-class scores already passed through a sigmoid.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

BOX_ROWS = 4


@dataclass(frozen=True, slots=True)
class Candidates:
    """Per-anchor best-class candidates above their class's score threshold.

    boxes: (N, 4) float32 x1, y1, x2, y2 in detector-input pixels; scores: (N,) float32; class_ids: (N,) int32.
    """

    boxes: npt.NDArray[np.float32]
    scores: npt.NDArray[np.float32]
    class_ids: npt.NDArray[np.int32]


def decode_yolov8(output: npt.NDArray[np.float32], class_thresholds: npt.NDArray[np.float32]) -> Candidates:
    """Decode one image's (4 + C, A) output; ``class_thresholds`` is (C,) per-class minimum scores."""
    if output.ndim != 2 or output.shape[0] <= BOX_ROWS:
        raise ValueError(f"expected a (4 + classes, anchors) array, got shape {output.shape}")
    scores_all = output[BOX_ROWS:]
    if class_thresholds.shape != (scores_all.shape[0],):
        raise ValueError(
            f"{class_thresholds.shape[0]} class thresholds for a detector with {scores_all.shape[0]} classes"
        )
    class_ids = scores_all.argmax(axis=0).astype(np.int32)
    scores = scores_all[class_ids, np.arange(scores_all.shape[1])]
    keep = scores >= class_thresholds[class_ids]
    return Candidates(_cxcywh_to_xyxy(output[:BOX_ROWS, keep].T), scores[keep].astype(np.float32), class_ids[keep])


def _cxcywh_to_xyxy(cxcywh: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    half = cxcywh[:, 2:4] / 2
    return np.concatenate([cxcywh[:, :2] - half, cxcywh[:, :2] + half], axis=1).astype(np.float32)
