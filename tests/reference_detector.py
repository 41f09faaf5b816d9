"""An independent, single-process reference for the detection ensemble.

Decode -> letterbox -> ONNX Runtime -> class-wise NMS, written with OpenCV primitives and none of the
project's own vision code, so that agreement with the ensemble means something.
"""

from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

SIZE = 416


class ReferenceDetector:
    def __init__(self, onnx_path: Path, conf: float = 0.35, iou: float = 0.5) -> None:
        self.session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        self.conf, self.iou = conf, iou

    def __call__(self, bgr: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 BGR -> (N, 6) rows (x1, y1, x2, y2, score, class) in source pixels, best first."""
        h, w = bgr.shape[:2]
        r = min(SIZE / w, SIZE / h)
        nw, nh = min(SIZE, max(1, round(w * r))), min(SIZE, max(1, round(h * r)))
        left, top = (SIZE - nw) // 2, (SIZE - nh) // 2
        resized = bgr if (nw, nh) == (w, h) else cv2.resize(bgr, (nw, nh), interpolation=cv2.INTER_LINEAR)
        padded = cv2.copyMakeBorder(resized, top, SIZE - nh - top, left, SIZE - nw - left, cv2.BORDER_CONSTANT, value=0)
        blob = padded.transpose(2, 0, 1)[None].astype(np.float32)
        out = self.session.run(None, {"images": blob})[0][0]  # (84, A)
        scores_all = out[4:]
        cls = scores_all.argmax(0)
        score = scores_all.max(0)
        keep = score >= self.conf
        cx, cy, bw, bh = out[:4, keep]
        score, cls = score[keep], cls[keep]
        xywh = np.stack([cx - bw / 2, cy - bh / 2, bw, bh], 1)
        idx = cv2.dnn.NMSBoxesBatched(xywh.tolist(), score.tolist(), cls.tolist(), self.conf, self.iou)
        idx = np.array(idx, dtype=int).reshape(-1)
        idx = idx[np.argsort(-score[idx], kind="stable")]
        x1 = np.clip((xywh[idx, 0] - left) / r, 0, w)
        y1 = np.clip((xywh[idx, 1] - top) / r, 0, h)
        x2 = np.clip((xywh[idx, 0] + xywh[idx, 2] - left) / r, 0, w)
        y2 = np.clip((xywh[idx, 1] + xywh[idx, 3] - top) / r, 0, h)
        return np.stack([x1, y1, x2, y2, score[idx], cls[idx]], 1).astype(np.float32)
