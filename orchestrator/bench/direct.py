"""The direct baseline: the same stages, functions, graph file and threads, in this process.

Nothing crosses a process boundary: frames go through ``orchestrator.vision``'s preprocess and the same
served graph (NMS and the letterbox undone inside it) under ONNX Runtime with the served model's
``intra_op_threads``. What Triton adds is whatever the benchmark measures above this.
"""

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from orchestrator.bench.stage_tensors import StageTensors
from orchestrator.bench.stages import Stage
from orchestrator.contract import DETECTOR_INPUT
from orchestrator.repository.parameters import string_parameters
from orchestrator.triton.wire import WireFormat
from orchestrator.vision.onnx_detector import Batch, OnnxDetector
from orchestrator.vision.preprocess import preprocess

BACKEND: Final = "onnxruntime"
"""The only direct backend the CPU profile ships; torch/TensorRT need a model the repository does not hold."""


class FrameDetector(Protocol):
    """The served detector graph run in this process (OnnxDetector), or the stand-in that replays it."""

    def run(self, images: npt.NDArray[np.uint8], letterboxes: npt.NDArray[np.float32]) -> Batch: ...

    def detect(
        self, images: npt.NDArray[np.uint8], letterboxes: npt.NDArray[np.float32]
    ) -> list[npt.NDArray[np.float32]]: ...


class DirectUnavailableError(RuntimeError):
    """No direct baseline can be built (the message says why; the report records it)."""


@dataclass(frozen=True)
class DirectSettings:
    """The served models' own settings, read from their configs on the server."""

    detector_path: Path
    intra_op_threads: int
    input_size: int

    @classmethod
    def from_configs(cls, configs: Mapping[Stage, Mapping[str, Any]], repository: Path) -> "DirectSettings":
        detector = configs[Stage.DETECTOR]
        params = string_parameters(detector)
        return cls(
            detector_path=_model_file(repository / Stage.DETECTOR.value, params.get("onnx_file", "model.onnx")),
            intra_op_threads=int(params.get("intra_op_threads", "0")),
            input_size=detector_input_size(detector),
        )

    def describe(self) -> dict[str, Any]:
        return {
            "model_file": self.detector_path.name,
            "intra_op_threads": self.intra_op_threads,
            "input_size": self.input_size,
        }


@dataclass(frozen=True)
class BatchTiming:
    """Nanoseconds spent in each stage this pipeline runs, for one batch, and what it produced."""

    stage_ns: Mapping[Stage, int]
    detections: list[npt.NDArray[np.float32]]
    """Per frame (N, 6) rows as the detector returns them."""

    @property
    def total_ns(self) -> int:
        return sum(self.stage_ns.values())


@dataclass(frozen=True)
class DirectPipeline:
    """``stages`` run for real on each batch; the letterbox is taken from ``tensors`` when preprocess is not one."""

    stages: tuple[Stage, ...]
    tensors: StageTensors
    detector: FrameDetector
    input_size: int
    wire: WireFormat

    def run_batch(self, indices: Sequence[int]) -> BatchTiming:
        timing: dict[Stage, int] = {}
        images, letterboxes = self._timed(timing, Stage.PREPROCESS, self._preprocess, indices)
        rows = self._timed(timing, Stage.DETECTOR, self.detector.detect, images, letterboxes)
        return BatchTiming({stage: timing[stage] for stage in self.stages}, rows)

    def _timed(self, timing: dict[Stage, int], stage: Stage, work: Any, *args: Any) -> Any:
        started = time.perf_counter_ns()
        result = work(*args)
        timing[stage] = time.perf_counter_ns() - started
        return result

    def _preprocess(self, indices: Sequence[int]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
        if Stage.PREPROCESS not in self.stages:
            return np.stack([self.tensors.letterboxed[i] for i in indices]), self._letterboxes(indices)
        items = [preprocess(*self._frame(i), self.input_size) for i in indices]
        return np.stack([boxed for boxed, _ in items]), np.stack([plan.as_array() for _, plan in items])

    def _frame(self, index: int) -> tuple[npt.NDArray[np.uint8] | None, npt.NDArray[np.uint8] | None]:
        footage = self.tensors.footage
        return (footage.jpeg[index], None) if self.wire is WireFormat.JPEG else (None, footage.raw[index])

    def _letterboxes(self, indices: Sequence[int]) -> npt.NDArray[np.float32]:
        return np.stack([self.tensors.letterboxes[i] for i in indices])


def load_detector(settings: DirectSettings) -> OnnxDetector:
    return OnnxDetector.load(settings.detector_path, intra_op_threads=settings.intra_op_threads)


def build_pipeline(
    stages: tuple[Stage, ...],
    tensors: StageTensors,
    detector: FrameDetector,
    settings: DirectSettings,
    wire: WireFormat,
) -> DirectPipeline:
    if Stage.DETECTOR not in stages:
        raise DirectUnavailableError("the model does not run the detector")
    detector.run(tensors.letterboxed[0][None], tensors.letterboxes[0][None])  # warm the session
    return DirectPipeline(stages, tensors, detector, settings.input_size, wire)


def detector_input_size(detector_config: Mapping[str, Any]) -> int:
    for spec in detector_config.get("input", []):
        if spec.get("name") == DETECTOR_INPUT:
            return int(spec["dims"][0])
    raise DirectUnavailableError(f"the detector config declares no {DETECTOR_INPUT!r} input")


def _model_file(model_dir: Path, filename: str) -> Path:
    """``<model_dir>/<highest version>/<filename>``, as Triton's default version policy serves it."""
    versions = sorted((int(p.name) for p in model_dir.glob("*") if p.name.isdigit()), reverse=True)
    for version in versions:
        candidate = model_dir / str(version) / filename
        if candidate.is_file():
            return candidate
    raise DirectUnavailableError(f"no {filename} under {model_dir.name}/<version>/ in the local model repository")
