"""Class-wise non-maximum suppression in numpy."""

import numpy as np
import numpy.typing as npt


def nms_classwise(
    boxes: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
    class_ids: npt.NDArray[np.int32],
    iou_threshold: float,
    max_detections: int,
) -> npt.NDArray[np.intp]:
    """Indices of the kept boxes, best score first.

    boxes: (N, 4) x1, y1, x2, y2. A box is suppressed by a higher-scoring box of the same class whose
    IoU with it exceeds ``iou_threshold``. Classes never suppress each other: boxes are shifted per class
    by more than the whole coordinate range, so one greedy pass serves all classes.
    """
    if boxes.shape[0] == 0:
        return np.empty(0, dtype=np.intp)
    span = float(boxes.max() - min(boxes.min(), 0.0)) + 1.0
    shifted = boxes + (class_ids.astype(np.float32) * span)[:, None]
    return _greedy_nms(shifted, scores, iou_threshold, max_detections)


def _greedy_nms(
    boxes: npt.NDArray[np.float32], scores: npt.NDArray[np.float32], iou_threshold: float, limit: int
) -> npt.NDArray[np.intp]:
    x1, y1, x2, y2 = boxes.T
    areas = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size and len(keep) < limit:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        inter_w = np.maximum(0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]))
        inter_h = np.maximum(0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]))
        inter = inter_w * inter_h
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-9)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.intp)
