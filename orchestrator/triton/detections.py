"""Detections of one frame as the ensemble returns them."""

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from orchestrator.contract import DETECTION_COLUMNS
from orchestrator.vision.coco import class_name


@dataclass(frozen=True, slots=True)
class Detections:
    """boxes: (N, 4) float32 (x1, y1, x2, y2) in source-frame pixels; scores: (N,) float32;
    class_ids: (N,) int32. Rows are best score first."""

    boxes: npt.NDArray[np.float32]
    scores: npt.NDArray[np.float32]
    class_ids: npt.NDArray[np.int32]
    model: str = ""
    model_version: str = ""
    """Which model and version answered, as Triton reported them ("" when not known)."""

    @classmethod
    def from_rows(cls, rows: npt.NDArray[np.float32], model: str = "", model_version: str = "") -> "Detections":
        """From the model's (N, 6) DETECTIONS rows (x1, y1, x2, y2, score, class_id)."""
        rows = np.asarray(rows, dtype=np.float32).reshape(-1, DETECTION_COLUMNS)
        return cls(rows[:, :4].copy(), rows[:, 4].copy(), rows[:, 5].astype(np.int32), model, model_version)

    def rows(self) -> npt.NDArray[np.float32]:
        """(N, 6) rows (x1, y1, x2, y2, score, class_id) again."""
        return np.column_stack([self.boxes, self.scores, self.class_ids]).astype(np.float32)

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    def of_class(self, class_id: int) -> "Detections":
        return self.subset(self.class_ids == class_id)

    def subset(self, keep: npt.NDArray[np.bool_]) -> "Detections":
        """The rows where ``keep`` (N,) is True, in their order."""
        return replace(self, boxes=self.boxes[keep], scores=self.scores[keep], class_ids=self.class_ids[keep])

    def class_names(self) -> tuple[str, ...]:
        """One class name per row."""
        return tuple(class_name(int(c)) for c in self.class_ids)

    def describe(self) -> list[str]:
        """One human-readable line per detection."""
        return [
            f"{class_name(int(c)):>14s} {s:.2f}  [{b[0]:7.1f} {b[1]:7.1f} {b[2]:7.1f} {b[3]:7.1f}]"
            for b, s, c in zip(self.boxes, self.scores, self.class_ids, strict=True)
        ]
