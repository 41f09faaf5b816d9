"""The direct baseline: the same stages, functions, model file, settings and threads, in this process.

Nothing crosses a process boundary: frames go through ``orchestrator.vision``'s preprocess, the same
ONNX file under ONNX Runtime with the served model's ``intra_op_threads``, and postprocess with the
served model's parameters. What Triton adds is whatever the benchmark measures above this.
"""

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from orchestrator.bench.stage_tensors import StageTensors
from orchestrator.bench.stages import Stage
from orchestrator.contract import DETECTOR_INPUT
from orchestrator.repository.parameters import string_parameters
from orchestrator.triton.wire import WireFormat
from orchestrator.vision.letterbox import Letterbox
from orchestrator.vision.onnx_detector import OnnxDetector
from orchestrator.vision.postprocess import PostprocessConfig, PostprocessSettings, postprocess
from orchestrator.vision.preprocess import preprocess

BACKEND: Final = "onnxruntime"
"""The only direct backend the CPU profile ships; torch/TensorRT need a model the repository does not hold."""


class DirectUnavailableError(RuntimeError):
    """No direct baseline can be built (the message says why; the report records it)."""


@dataclass(frozen=True)
class DirectSettings:
    """The served models' own settings, read from their configs on the server."""

    detector_path: Path
    intra_op_threads: int
    input_size: int
    postprocess: PostprocessConfig

    @classmethod
    def from_configs(cls, configs: Mapping[Stage, Mapping[str, Any]], repository: Path) -> "DirectSettings":
        detector = configs[Stage.DETECTOR]
        params = string_parameters(detector)
        return cls(
            detector_path=_model_file(repository / Stage.DETECTOR.value, params.get("onnx_file", "model.onnx")),
            intra_op_threads=int(params.get("intra_op_threads", "0")),
            input_size=_input_size(detector),
            postprocess=PostprocessConfig.from_parameters(string_parameters(configs[Stage.POSTPROCESS])),
        )

    def describe(self) -> dict[str, Any]:
        return {"model_file": self.detector_path.name, "intra_op_threads": self.intra_op_threads,
                "input_size": self.input_size}  # fmt: skip


@dataclass(frozen=True)
class BatchTiming:
    """Nanoseconds spent in each stage this pipeline runs, for one batch, and what it produced."""

    stage_ns: Mapping[Stage, int]
    detections: list[npt.NDArray[np.float32]]
    """Per frame (N, 6) rows as the ensemble returns them; [] when postprocess is not a stage."""

    @property
    def total_ns(self) -> int:
        return sum(self.stage_ns.values())


@dataclass(frozen=True)
class DirectPipeline:
    """``stages`` run for real on each batch; a stage outside them is fed from ``tensors``."""

    stages: tuple[Stage, ...]
    tensors: StageTensors
    detector: OnnxDetector
    input_size: int
    post: PostprocessSettings
    wire: WireFormat

    def run_batch(self, indices: Sequence[int]) -> BatchTiming:
        timing: dict[Stage, int] = {}
        chw, plans = self._timed(timing, Stage.PREPROCESS, self._preprocess, indices)
        outputs = self._timed(timing, Stage.DETECTOR, self._detect, indices, chw)
        rows = self._timed(timing, Stage.POSTPROCESS, self._postprocess, indices, outputs, plans)
        return BatchTiming({stage: timing[stage] for stage in self.stages}, rows)

    def _timed(self, timing: dict[Stage, int], stage: Stage, work: Any, *args: Any) -> Any:
        started = time.perf_counter_ns()
        result = work(*args)
        timing[stage] = time.perf_counter_ns() - started
        return result

    def _preprocess(self, indices: Sequence[int]) -> tuple[npt.NDArray[np.float32], list[Letterbox]]:
        if Stage.PREPROCESS not in self.stages:
            return np.stack([self.tensors.letterboxed[i] for i in indices]), self._plans(indices)
        items = [preprocess(*self._frame(i), self.input_size) for i in indices]
        return np.stack([chw for chw, _ in items]), [plan for _, plan in items]

    def _detect(self, indices: Sequence[int], chw: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if Stage.DETECTOR in self.stages or self.tensors.predictions is None:
            return self.detector.run(chw)
        return np.stack([self.tensors.predictions[i] for i in indices])

    def _postprocess(
        self, indices: Sequence[int], outputs: npt.NDArray[np.float32], plans: list[Letterbox]
    ) -> list[npt.NDArray[np.float32]]:
        if Stage.POSTPROCESS not in self.stages:
            return []
        return [postprocess(out, plan, self.post) for out, plan in zip(outputs, plans, strict=True)]

    def _frame(self, index: int) -> tuple[npt.NDArray[np.uint8] | None, npt.NDArray[np.uint8] | None]:
        footage = self.tensors.footage
        return (footage.jpeg[index], None) if self.wire is WireFormat.JPEG else (None, footage.raw[index])

    def _plans(self, indices: Sequence[int]) -> list[Letterbox]:
        return [Letterbox.from_array(self.tensors.letterboxes[i]) for i in indices]


def load_detector(settings: DirectSettings) -> OnnxDetector:
    return OnnxDetector.load(settings.detector_path, intra_op_threads=settings.intra_op_threads)


def build_pipeline(
    stages: tuple[Stage, ...], tensors: StageTensors, detector: OnnxDetector, settings: DirectSettings,
    wire: WireFormat,
) -> DirectPipeline:  # fmt: skip
    if not stages:
        raise DirectUnavailableError("the model runs none of the pipeline's stages")
    num_classes = int(detector.run(tensors.letterboxed[0][None]).shape[1]) - 4  # also warms the session
    post = settings.postprocess.settings_for(num_classes)
    return DirectPipeline(stages, tensors, detector, settings.input_size, post, wire)


def _input_size(detector_config: Mapping[str, Any]) -> int:
    for spec in detector_config.get("input", []):
        if spec.get("name") == DETECTOR_INPUT:
            return int(spec["dims"][-1])
    raise DirectUnavailableError(f"the detector config declares no {DETECTOR_INPUT!r} input")


def _model_file(model_dir: Path, filename: str) -> Path:
    """``<model_dir>/<highest version>/<filename>``, as Triton's default version policy serves it."""
    versions = sorted((int(p.name) for p in model_dir.glob("*") if p.name.isdigit()), reverse=True)
    for version in versions:
        candidate = model_dir / str(version) / filename
        if candidate.is_file():
            return candidate
    raise DirectUnavailableError(f"no {filename} under {model_dir.name}/<version>/ in the local model repository")
