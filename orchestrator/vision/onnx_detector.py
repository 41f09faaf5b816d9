"""The served detector graph run directly by ONNX Runtime: the CPU profile's Triton model and the direct baseline.

The graph (see ``orchestrator/repository/detector_graph.py``) takes letterboxed uint8 frames and their
letterboxes and returns final detections in source pixels, so this is the whole detector, NMS included.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from orchestrator.contract import DETECTOR_INPUT, LETTERBOX, OUTPUT_DETECTIONS, OUTPUT_NUM_DETECTIONS

Batch = tuple[npt.NDArray[np.float32], npt.NDArray[np.int32]]
"""(B, K, 6) float32 DETECTIONS rows and (B, 1) int32 NUM_DETECTIONS."""


@dataclass(frozen=True)
class OnnxDetector:
    """An ONNX Runtime session over the served detector graph."""

    session: ort.InferenceSession

    @classmethod
    def load(cls, path: Path, intra_op_threads: int = 0) -> "OnnxDetector":
        """Load ``path`` on the CPU provider; ``intra_op_threads`` 0 means one thread per core."""
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle worker threads sleep instead of spinning: on a CPU node the gRPC server, the Python stubs and the
        # client need the cores between batches (measured in docs/PERFORMANCE.md).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return cls(ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]))

    @property
    def input_size(self) -> int:
        """S of the (B, S, S, 3) input."""
        return int(self.session.get_inputs()[0].shape[1])

    @property
    def max_detections(self) -> int:
        """K of the (B, K, 6) output."""
        return int(self.session.get_outputs()[0].shape[1])

    def run(self, images: npt.NDArray[np.uint8], letterboxes: npt.NDArray[np.float32]) -> Batch:
        """(B, S, S, 3) uint8 letterboxed BGR and (B, 5) letterboxes -> (DETECTIONS, NUM_DETECTIONS)."""
        rows, counts = self.session.run(
            [OUTPUT_DETECTIONS, OUTPUT_NUM_DETECTIONS], {DETECTOR_INPUT: images, LETTERBOX: letterboxes}
        )
        return np.asarray(rows, dtype=np.float32), np.asarray(counts, dtype=np.int32)

    def run_split(self, requests: Sequence[tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]]) -> list[Batch]:
        """Run several requests' (images, letterboxes) as one call; return each request's own outputs."""
        if not requests:
            return []
        images = np.concatenate([i for i, _ in requests]) if len(requests) > 1 else requests[0][0]
        letterboxes = np.concatenate([lb for _, lb in requests]) if len(requests) > 1 else requests[0][1]
        rows, counts = self.run(images, letterboxes)
        bounds = np.cumsum([i.shape[0] for i, _ in requests])[:-1]
        return list(zip(np.split(rows, bounds), np.split(counts, bounds), strict=True))

    def detect(
        self, images: npt.NDArray[np.uint8], letterboxes: npt.NDArray[np.float32]
    ) -> list[npt.NDArray[np.float32]]:
        """Per image, its (n, 6) detections without the padding rows."""
        rows, counts = self.run(images, letterboxes)
        return [r[: int(n)] for r, n in zip(rows, counts.reshape(-1), strict=True)]
