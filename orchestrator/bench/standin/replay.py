"""The real detector's outputs for the benchmark's frames, recorded once and replayed in turn."""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from orchestrator.vision.onnx_detector import Batch, OnnxDetector


@dataclass(frozen=True)
class RecordedOutputs:
    """rows: (F, K, 6) float32 DETECTIONS per recorded frame; counts: (F, 1) int32 NUM_DETECTIONS."""

    rows: npt.NDArray[np.float32]
    counts: npt.NDArray[np.int32]

    def __post_init__(self) -> None:
        if self.rows.ndim != 3 or self.rows.shape[0] == 0 or self.counts.shape != (self.rows.shape[0], 1):
            raise ValueError(f"recorded outputs need (F, K, 6) rows and (F, 1) counts, got {self.rows.shape}")

    def save(self, path: Path) -> None:
        with path.open("wb") as file:
            np.savez(file, rows=self.rows, counts=self.counts)

    @classmethod
    def load(cls, path: Path) -> "RecordedOutputs":
        with np.load(path) as data:
            return cls(np.asarray(data["rows"], np.float32), np.asarray(data["counts"], np.int32))


def record_outputs(
    detector: OnnxDetector, images: tuple[npt.NDArray[np.uint8], ...], letterboxes: tuple[npt.NDArray[np.float32], ...]
) -> RecordedOutputs:
    """Run the real detector once over every letterboxed frame."""
    outputs = [detector.run(i[None], lb[None]) for i, lb in zip(images, letterboxes, strict=True)]
    return RecordedOutputs(np.concatenate([r for r, _ in outputs]), np.concatenate([c for _, c in outputs]))


@dataclass
class ReplayDetector:
    """Answers like ``OnnxDetector`` without computing: the next recorded outputs, in turn, whatever the input."""

    recorded: RecordedOutputs
    _next: int = field(default=0)

    def run(self, images: npt.NDArray[np.uint8], letterboxes: npt.NDArray[np.float32]) -> Batch:
        count = int(letterboxes.shape[0])
        index = (self._next + np.arange(count)) % self.recorded.rows.shape[0]
        self._next = int(index[-1]) + 1 if count else self._next
        return self.recorded.rows[index], self.recorded.counts[index]

    def detect(
        self, images: npt.NDArray[np.uint8], letterboxes: npt.NDArray[np.float32]
    ) -> list[npt.NDArray[np.float32]]:
        rows, counts = self.run(images, letterboxes)
        return [r[: int(n)] for r, n in zip(rows, counts.reshape(-1), strict=True)]
