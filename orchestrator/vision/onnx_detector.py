"""The served detector graph run directly by ONNX Runtime: the CPU profile's Triton model and the direct baseline.

The graph (see ``orchestrator/repository/detector_graph.py``) takes letterboxed uint8 frames and their
letterboxes and returns final detections in source pixels, so this is the whole detector, NMS included.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from orchestrator.contract import DETECTOR_INPUT, LETTERBOX, OUTPUT_DETECTIONS, OUTPUT_NUM_DETECTIONS

Batch = tuple[npt.NDArray[np.float32], npt.NDArray[np.int32]]
"""(B, K, 6) float32 DETECTIONS rows and (B, 1) int32 NUM_DETECTIONS."""
Outputs = dict[str, npt.NDArray[np.generic]]
"""Output tensors by name, batch first."""
Request = tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]
"""One request's (B, S, S, 3) uint8 letterboxed frames and (B, 5) letterboxes."""
INFERENCE_OUTPUTS: Final = (OUTPUT_DETECTIONS, OUTPUT_NUM_DETECTIONS)
"""What a detection asks for; CLASS_SCORES only serves the class names (see orchestrator/contract.py)."""


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

    def outputs(
        self, names: Sequence[str], images: npt.NDArray[np.uint8], letterboxes: npt.NDArray[np.float32]
    ) -> Outputs:
        """The named outputs of one call (ONNX Runtime runs the whole graph whichever are named)."""
        values = self.session.run(list(names), {DETECTOR_INPUT: images, LETTERBOX: letterboxes})
        return {name: np.asarray(value) for name, value in zip(names, values, strict=True)}

    def run(self, images: npt.NDArray[np.uint8], letterboxes: npt.NDArray[np.float32]) -> Batch:
        """(B, S, S, 3) uint8 letterboxed BGR and (B, 5) letterboxes -> (DETECTIONS, NUM_DETECTIONS)."""
        out = self.outputs(INFERENCE_OUTPUTS, images, letterboxes)
        return np.asarray(out[OUTPUT_DETECTIONS], np.float32), np.asarray(out[OUTPUT_NUM_DETECTIONS], np.int32)

    def run_split(self, requests: Sequence[Request], names: Sequence[str] = INFERENCE_OUTPUTS) -> list[Outputs]:
        """Run several requests as one call for the outputs ``names``; return each request's own outputs."""
        if not requests:
            return []
        images = np.concatenate([i for i, _ in requests]) if len(requests) > 1 else requests[0][0]
        letterboxes = np.concatenate([lb for _, lb in requests]) if len(requests) > 1 else requests[0][1]
        out = self.outputs(names, images, letterboxes)
        bounds = np.cumsum([i.shape[0] for i, _ in requests])[:-1]
        split = {name: np.split(value, bounds) for name, value in out.items()}
        return [{name: parts[i] for name, parts in split.items()} for i in range(len(requests))]

    def detect(
        self, images: npt.NDArray[np.uint8], letterboxes: npt.NDArray[np.float32]
    ) -> list[npt.NDArray[np.float32]]:
        """Per image, its (n, 6) detections without the padding rows."""
        rows, counts = self.run(images, letterboxes)
        return [r[: int(n)] for r, n in zip(rows, counts.reshape(-1), strict=True)]
