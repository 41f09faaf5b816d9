"""The detector run directly by ONNX Runtime: used by the CPU profile's Triton model and the direct baseline."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort


@dataclass(frozen=True)
class OnnxDetector:
    """An ONNX Runtime session over a YOLOv8-layout detector with one image input and one output."""

    session: ort.InferenceSession
    input_name: str
    output_name: str

    @classmethod
    def load(cls, path: Path, intra_op_threads: int = 0) -> "OnnxDetector":
        """Load ``path`` on the CPU provider; ``intra_op_threads`` 0 means one thread per core."""
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        return cls(session, session.get_inputs()[0].name, session.get_outputs()[0].name)

    @property
    def input_size(self) -> int:
        """S of the (B, 3, S, S) input."""
        return int(self.session.get_inputs()[0].shape[-1])

    def run(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """(B, 3, S, S) float32 -> (B, 4 + classes, anchors) float32."""
        result = self.session.run([self.output_name], {self.input_name: batch})[0]
        return np.asarray(result, dtype=np.float32)

    def run_split(self, batches: Sequence[npt.NDArray[np.float32]]) -> list[npt.NDArray[np.float32]]:
        """Run several requests' (b_i, 3, S, S) inputs as one call; return each request's own outputs."""
        if not batches:
            return []
        output = self.run(np.concatenate(batches) if len(batches) > 1 else batches[0])
        bounds = np.cumsum([b.shape[0] for b in batches])[:-1]
        return list(np.split(output, bounds))
