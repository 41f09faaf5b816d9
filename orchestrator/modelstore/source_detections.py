"""The researcher's own model's detections, computed without the served graph: what a build is judged against.

The source ONNX runs under ONNX Runtime on the same letterboxed frame; decoding, per-class thresholds and class-wise
NMS are OpenCV's (``cv2.dnn.NMSBoxesBatched``), not the graph's operators, so a fault in the graph builder cannot
hide by appearing on both sides.
"""

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from orchestrator.repository.detector_graph import GraphSettings
from orchestrator.vision.letterbox import Letterbox


@dataclass(frozen=True)
class SourceDetector:
    session: ort.InferenceSession
    settings: GraphSettings

    @classmethod
    def load(cls, path: Path, settings: GraphSettings) -> "SourceDetector":
        return cls(ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]), settings)

    def detect(self, boxed: npt.NDArray[np.uint8], plan: Letterbox) -> npt.NDArray[np.float32]:
        """(S, S, 3) letterboxed frame -> (N, 6) rows (x1, y1, x2, y2, score, class) in source pixels, best first."""
        blob = np.ascontiguousarray(boxed.transpose(2, 0, 1)[None], dtype=np.float32)
        output = self.session.run(None, {self.session.get_inputs()[0].name: blob})[0][0]
        scores_all = output[4:]
        classes = scores_all.argmax(0)
        scores = scores_all[classes, np.arange(scores_all.shape[1])]
        keep = scores >= self.settings.class_thresholds[classes]
        cx, cy, w, h = output[:4, keep]
        scores, classes = scores[keep], classes[keep]
        xywh = np.stack([cx - w / 2, cy - h / 2, w, h], 1)
        picked = cv2.dnn.NMSBoxesBatched(
            xywh.tolist(), scores.tolist(), classes.tolist(), 0.0, self.settings.iou_threshold
        )
        index = np.array(picked, dtype=int).reshape(-1)
        index = index[np.argsort(-scores[index], kind="stable")][: self.settings.max_detections]
        x1 = np.clip((xywh[index, 0] - plan.pad_x) / plan.scale, 0, plan.source_width)
        y1 = np.clip((xywh[index, 1] - plan.pad_y) / plan.scale, 0, plan.source_height)
        x2 = np.clip((xywh[index, 0] + xywh[index, 2] - plan.pad_x) / plan.scale, 0, plan.source_width)
        y2 = np.clip((xywh[index, 1] + xywh[index, 3] - plan.pad_y) / plan.scale, 0, plan.source_height)
        rows: npt.NDArray[np.float32] = np.stack([x1, y1, x2, y2, scores[index], classes[index]], 1).astype(np.float32)
        return rows
