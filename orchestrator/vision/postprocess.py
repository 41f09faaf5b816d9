"""Detector output -> final detections in source-frame pixels."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from orchestrator.vision.letterbox import Letterbox, unletterbox_boxes
from orchestrator.vision.nms import nms_classwise
from orchestrator.vision.thresholds import (
    DEFAULT_IOU_THRESHOLD,
    DEFAULT_MAX_DETECTIONS,
    DEFAULT_SCORE_THRESHOLD,
    class_thresholds,
    parse_overrides,
)
from orchestrator.vision.yolo_decode import decode_yolov8

MAX_NMS_CANDIDATES: Final = 4096
"""Candidates kept (best first) before NMS, bounding its cost on a pathological frame."""


@dataclass(frozen=True, slots=True)
class PostprocessSettings:
    class_thresholds: npt.NDArray[np.float32]
    """(classes,) minimum score per class."""
    iou_threshold: float
    max_detections: int


def postprocess(
    output: npt.NDArray[np.float32], plan: Letterbox, settings: PostprocessSettings
) -> npt.NDArray[np.float32]:
    """One image's (4 + C, A) YOLOv8-layout output -> (N, 6) float32 rows.

    Each row is (x1, y1, x2, y2, score, class_id), boxes in source-frame pixels, best score first.
    """
    cand = decode_yolov8(output, settings.class_thresholds)
    top = np.argsort(-cand.scores, kind="stable")[:MAX_NMS_CANDIDATES]
    boxes, scores, class_ids = cand.boxes[top], cand.scores[top], cand.class_ids[top]
    keep = nms_classwise(boxes, scores, class_ids, settings.iou_threshold, settings.max_detections)
    rows = np.empty((keep.size, 6), dtype=np.float32)
    rows[:, :4] = unletterbox_boxes(boxes[keep], plan)
    rows[:, 4] = scores[keep]
    rows[:, 5] = class_ids[keep]
    return rows


@dataclass(frozen=True)
class PostprocessConfig:
    """Post-processing knobs as set in the postprocess model's config.pbtxt ``parameters``."""

    score_threshold: float = DEFAULT_SCORE_THRESHOLD
    class_score_thresholds: Mapping[str, float] = field(default_factory=dict)
    iou_threshold: float = DEFAULT_IOU_THRESHOLD
    max_detections: int = DEFAULT_MAX_DETECTIONS

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, str]) -> "PostprocessConfig":
        """Build from string parameters (keys as in config.pbtxt); missing keys keep their defaults."""
        config = cls(
            score_threshold=float(parameters.get("score_threshold", DEFAULT_SCORE_THRESHOLD)),
            class_score_thresholds=parse_overrides(parameters.get("class_score_thresholds", "")),
            iou_threshold=float(parameters.get("iou_threshold", DEFAULT_IOU_THRESHOLD)),
            max_detections=int(parameters.get("max_detections", DEFAULT_MAX_DETECTIONS)),
        )
        config.settings_for(80)  # validate early, at model load, not on the first frame
        return config

    def settings_for(self, num_classes: int) -> PostprocessSettings:
        """Settings for a detector with ``num_classes`` classes (known once its output arrives)."""
        if not 0.0 < self.iou_threshold <= 1.0:
            raise ValueError(f"iou_threshold must be within (0, 1], got {self.iou_threshold}")
        if self.max_detections < 1:
            raise ValueError(f"max_detections must be at least 1, got {self.max_detections}")
        thresholds = class_thresholds(num_classes, self.score_threshold, self.class_score_thresholds)
        return PostprocessSettings(thresholds, self.iou_threshold, self.max_detections)
