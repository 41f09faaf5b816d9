"""The accuracy gate: a built detector must find what the researcher's model finds, frame by frame.

A built detection matches a source detection of the same class at IoU >= ``min_iou`` (greedy, best source score
first, each used once). Recall = matched / source detections, precision = matched / built detections, both pooled
over the golden frames; score drift = the largest |built - source| score over the matches.
"""

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from orchestrator.modelstore.golden import GoldenFrame

MIN_IOU: Final = 0.9
MIN_RECALL: Final = 0.99
MIN_PRECISION: Final = 0.99
MAX_SCORE_DRIFT: Final = 0.02
"""fp16 TensorRT moves sigmoid scores by a few thousandths; more than this is a different model."""

Rows = npt.NDArray[np.float32]
"""(N, 6) rows (x1, y1, x2, y2, score, class_id) in source pixels."""


@dataclass(frozen=True)
class GateThresholds:
    min_iou: float = MIN_IOU
    min_recall: float = MIN_RECALL
    min_precision: float = MIN_PRECISION
    max_score_drift: float = MAX_SCORE_DRIFT


@dataclass(frozen=True)
class FrameResult:
    name: str
    source: int
    built: int
    matched: int
    max_score_drift: float


@dataclass(frozen=True)
class GateReport:
    thresholds: GateThresholds
    frames: tuple[FrameResult, ...]
    recall: float
    precision: float
    max_score_drift: float
    passed: bool
    reasons: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def match_rows(source: Rows, built: Rows, min_iou: float) -> list[tuple[int, int]]:
    """(source index, built index) pairs: same class, IoU >= ``min_iou``, greedy by source score."""
    pairs: list[tuple[int, int]] = []
    free = np.ones(len(built), dtype=bool)
    for i in np.argsort(-source[:, 4], kind="stable"):
        candidates = np.flatnonzero(free & (built[:, 5] == source[i, 5]))
        if candidates.size == 0:
            continue
        overlaps = _iou(source[i, :4], built[candidates, :4])
        best = int(np.argmax(overlaps))
        if overlaps[best] >= min_iou:
            pairs.append((int(i), int(candidates[best])))
            free[candidates[best]] = False
    return pairs


def run_gate(
    frames: Sequence[GoldenFrame],
    source: Callable[[GoldenFrame], Rows],
    built: Callable[[GoldenFrame], Rows],
    thresholds: GateThresholds | None = None,
) -> GateReport:
    """Judge ``built`` against ``source`` on every golden frame."""
    limits = thresholds or GateThresholds()
    results = [_frame(frame, source(frame), built(frame), limits.min_iou) for frame in frames]
    want, got = sum(r.source for r in results), sum(r.built for r in results)
    matched = sum(r.matched for r in results)
    recall = matched / want if want else 0.0
    precision = matched / got if got else 1.0  # a build that finds nothing finds nothing false: recall fails it
    drift = max((r.max_score_drift for r in results), default=0.0)
    reasons = _reasons(limits, want, recall, precision, drift)
    return GateReport(limits, tuple(results), recall, precision, drift, not reasons, tuple(reasons))


def _frame(frame: GoldenFrame, source: Rows, built: Rows, min_iou: float) -> FrameResult:
    pairs = match_rows(source, built, min_iou)
    drift = max((abs(float(source[i, 4] - built[j, 4])) for i, j in pairs), default=0.0)
    return FrameResult(frame.name, len(source), len(built), len(pairs), drift)


def _reasons(limits: GateThresholds, want: int, recall: float, precision: float, drift: float) -> list[str]:
    reasons = []
    if want == 0:
        reasons.append("the source model finds nothing on the golden frames: nothing to judge the build on")
    if recall < limits.min_recall:
        reasons.append(f"recall {recall:.4f} < {limits.min_recall}: the build misses what the source model finds")
    if precision < limits.min_precision:
        reasons.append(f"precision {precision:.4f} < {limits.min_precision}: the build finds what the source does not")
    if drift > limits.max_score_drift:
        reasons.append(f"score drift {drift:.4f} > {limits.max_score_drift}")
    return reasons


def _iou(box: npt.NDArray[np.float32], boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return np.asarray(inter / np.maximum(area + areas - inter, 1e-9), dtype=np.float64)
