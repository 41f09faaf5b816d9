"""An independent, single-process reference for the detector.

Decode -> letterbox -> ONNX Runtime on the *source* YOLOv8-layout graph -> per-class thresholds -> class-wise NMS,
written with OpenCV primitives and none of the project's own vision code, so that agreement with the served graph
and the ensemble means something.
"""

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

SIZE = 416


class ReferenceDetector:
    """Runs a source graph with input (B, 3, size, size) float32 BGR 0..255 and output (B, 4 + C, A).

    ``class_thresholds`` (C,) replaces the single ``conf`` when given: an anchor is kept when its best class's score
    is at least that class's threshold.
    """

    def __init__(
        self,
        onnx_path: Path,
        conf: float = 0.35,
        iou: float = 0.5,
        size: int = SIZE,
        class_thresholds: Sequence[float] | np.ndarray | None = None,
    ) -> None:
        self.session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.conf, self.iou, self.size = conf, iou, size
        self.class_thresholds = None if class_thresholds is None else np.asarray(class_thresholds, np.float32)

    def thresholds(self, num_classes: int) -> np.ndarray:
        """(C,) minimum score per class: the per-class thresholds, or ``conf`` for every class."""
        if self.class_thresholds is None:
            return np.full(num_classes, self.conf, np.float32)
        assert self.class_thresholds.shape == (num_classes,), f"{self.class_thresholds.shape} for {num_classes}"
        return self.class_thresholds

    def class_scores(self, bgr: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 BGR -> (C,) each class's best score over every anchor (before thresholds and NMS)."""
        out, _ = self._predict(bgr)
        return out[4:].max(axis=1)

    def _predict(self, bgr: np.ndarray) -> tuple[np.ndarray, tuple[float, int, int]]:
        """The source graph's (4 + C, A) output for the letterboxed frame, and the letterbox (r, left, top)."""
        size = self.size
        h, w = bgr.shape[:2]
        r = min(size / w, size / h)
        nw, nh = min(size, max(1, round(w * r))), min(size, max(1, round(h * r)))
        left, top = (size - nw) // 2, (size - nh) // 2
        resized = bgr if (nw, nh) == (w, h) else cv2.resize(bgr, (nw, nh), interpolation=cv2.INTER_LINEAR)
        padded = cv2.copyMakeBorder(resized, top, size - nh - top, left, size - nw - left, cv2.BORDER_CONSTANT, value=0)
        blob = padded.transpose(2, 0, 1)[None].astype(np.float32)
        return self.session.run(None, {self.input_name: blob})[0][0], (r, left, top)

    def __call__(self, bgr: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 BGR -> (N, 6) rows (x1, y1, x2, y2, score, class) in source pixels, best first."""
        h, w = bgr.shape[:2]
        out, (r, left, top) = self._predict(bgr)
        scores_all = out[4:]
        cls = scores_all.argmax(0)
        score = scores_all.max(0)
        keep = score >= self.thresholds(len(scores_all))[cls]
        cx, cy, bw, bh = out[:4, keep]
        score, cls = score[keep], cls[keep]
        xywh = np.stack([cx - bw / 2, cy - bh / 2, bw, bh], 1)
        # Thresholds were applied above (score >= threshold); OpenCV's own filter is strict, so it must not re-apply.
        idx = cv2.dnn.NMSBoxesBatched(xywh.tolist(), score.tolist(), cls.tolist(), 0.0, self.iou)
        idx = np.array(idx, dtype=int).reshape(-1)
        idx = idx[np.argsort(-score[idx], kind="stable")]
        x1 = np.clip((xywh[idx, 0] - left) / r, 0, w)
        y1 = np.clip((xywh[idx, 1] - top) / r, 0, h)
        x2 = np.clip((xywh[idx, 0] + xywh[idx, 2] - left) / r, 0, w)
        y2 = np.clip((xywh[idx, 1] + xywh[idx, 3] - top) / r, 0, h)
        return np.stack([x1, y1, x2, y2, score[idx], cls[idx]], 1).astype(np.float32)
