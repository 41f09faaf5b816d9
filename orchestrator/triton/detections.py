"""Detections of one frame as the detector returns them, with the model's class names."""

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from orchestrator.contract import DETECTION_COLUMNS
from orchestrator.triton.labels import NO_LABELS, Labels


@dataclass(frozen=True, slots=True)
class Detections:
    """boxes: (N, 4) float32 (x1, y1, x2, y2) in source-frame pixels; scores: (N,) float32;
    class_ids: (N,) int32. Rows are best score first. ``labels`` names the class ids: the model's labels, read
    from the server once and shared by reference (``class_<id>`` for a model without a labels file)."""

    boxes: npt.NDArray[np.float32]
    scores: npt.NDArray[np.float32]
    class_ids: npt.NDArray[np.int32]
    model: str = ""
    model_version: str = ""
    """Which model and version answered, as Triton reported them ("" when not known)."""
    labels: Labels = NO_LABELS

    @classmethod
    def from_rows(
        cls, rows: npt.NDArray[np.float32], model: str = "", model_version: str = "", labels: Labels = NO_LABELS
    ) -> "Detections":
        """From the model's (N, 6) DETECTIONS rows (x1, y1, x2, y2, score, class_id)."""
        rows = np.asarray(rows, dtype=np.float32).reshape(-1, DETECTION_COLUMNS)
        boxes, scores, class_ids = rows[:, :4].copy(), rows[:, 4].copy(), rows[:, 5].astype(np.int32)
        return cls(boxes, scores, class_ids, model, model_version, labels)

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
        """One class name per row, from the model's labels (``class_<id>`` for an id they do not name)."""
        return tuple(self.labels.name(int(c)) for c in self.class_ids)

    def describe(self) -> list[str]:
        """One human-readable line per detection."""
        return [
            f"{name:>14s} {s:.2f}  [{b[0]:7.1f} {b[1]:7.1f} {b[2]:7.1f} {b[3]:7.1f}]"
            for b, s, name in zip(self.boxes, self.scores, self.class_names(), strict=True)
        ]
