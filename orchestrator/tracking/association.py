"""IoU between box sets, and a greedy best-IoU-first one-to-one matching."""

import numpy as np
import numpy.typing as npt


def iou_matrix(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """(M, 4) and (N, 4) boxes as (x1, y1, x2, y2), any one pixel frame -> (M, N) float32 IoU in 0..1.

    Degenerate boxes (zero or negative area) have IoU 0 with everything.
    """
    a64, b64 = a.astype(np.float64).reshape(-1, 4), b.astype(np.float64).reshape(-1, 4)
    inter_w = np.minimum(a64[:, None, 2], b64[None, :, 2]) - np.maximum(a64[:, None, 0], b64[None, :, 0])
    inter_h = np.minimum(a64[:, None, 3], b64[None, :, 3]) - np.maximum(a64[:, None, 1], b64[None, :, 1])
    inter = np.maximum(inter_w, 0.0) * np.maximum(inter_h, 0.0)
    union = _area(a64)[:, None] + _area(b64)[None, :] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0.0)
    return np.asarray(iou, dtype=np.float32)


def greedy_match(affinity: npt.NDArray[np.float32], threshold: float) -> npt.NDArray[np.intp]:
    """One-to-one (row, col) pairs from an (M, N) affinity matrix, as (K, 2) intp, best affinity first.

    Repeatedly takes the highest remaining entry whose row and column are both still free; entries below
    ``threshold`` never match. Ties go to the lower row, then the lower column, so the result is deterministic.
    """
    rows, cols = np.nonzero(affinity >= threshold)
    order = np.argsort(-affinity[rows, cols], kind="stable")
    used_rows: set[int] = set()
    used_cols: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for row, col in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        if row not in used_rows and col not in used_cols:
            used_rows.add(row)
            used_cols.add(col)
            pairs.append((row, col))
    return np.asarray(pairs, dtype=np.intp).reshape(-1, 2)


def _area(boxes: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    area: npt.NDArray[np.float64] = np.maximum(boxes[:, 2] - boxes[:, 0], 0.0) * np.maximum(
        boxes[:, 3] - boxes[:, 1], 0.0
    )
    return area
