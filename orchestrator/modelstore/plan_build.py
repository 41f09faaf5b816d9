"""The GPU steps of ``pitchside model build`` and ``model validate``: a TensorRT plan of the served graph, and its
parity with ONNX Runtime on the golden frames (TensorRT's tools, docs/MODELS.md "GPU profile")."""

import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from orchestrator.contract import DETECTOR_INPUT
from orchestrator.modelstore.calibration_frames import LOADER_FILE, LetterboxedFrames, write_frames
from orchestrator.modelstore.golden import load_golden
from orchestrator.modelstore.validation import sha256_of
from orchestrator.repository.onnx_graph import onnx_signature
from orchestrator.repository.profiles import GPU_MAX_BATCH
from orchestrator.repository.tensorrt import (
    Builder,
    Calibration,
    ConversionError,
    ParityCheck,
    TensorRtBuild,
    check_parity,
    parity_commands,
    require,
)

DEFAULT_PLAN: Final = Path("plans") / "model.plan"
GPU_OPT_BATCH: Final = GPU_MAX_BATCH // 2
"""TensorRT tunes its kernels for half the largest batch: where a busy GPU's batches land."""
CALIBRATION_DIR: Final = "calibration"
REFERENCE_OUTPUTS: Final = "onnxrt-outputs.json"


@dataclass(frozen=True)
class PlanOptions:
    """``model build --profile gpu``'s options, checked into one TensorRT build."""

    plan: Path
    builder: Builder | None = None
    """None: polygraphy when calibrating int8 on frames (trtexec cannot), else trtexec."""
    timing_cache: Path | None = None
    fp16: bool = True
    int8: bool = False
    calibration_frames: Path | None = None
    calibration_cache: Path | None = None
    max_batch: int = GPU_MAX_BATCH
    opt_batch: int = GPU_OPT_BATCH

    def build(self, onnx: Path) -> TensorRtBuild:
        """The build of ``onnx``; ValueError for options that do not go together."""
        builder = self.builder or (Builder.POLYGRAPHY if self.calibration_frames is not None else Builder.TRTEXEC)
        return TensorRtBuild(
            onnx,
            self.plan,
            self.max_batch,
            min(self.opt_batch, self.max_batch),
            self.fp16,
            timing_cache=self.timing_cache,
            int8=self._calibration(),
            builder=builder,
        )

    def _calibration(self) -> Calibration | None:
        if not self.int8:
            if self.calibration_frames is not None or self.calibration_cache is not None:
                raise ValueError("--calibration-frames and --calibration-cache are for an --int8 build")
            return None
        if self.calibration_frames is not None:
            cache = self.calibration_cache or self.plan.with_name(f"{self.plan.stem}.calibration.cache")
            return Calibration(cache, self.plan.parent / CALIBRATION_DIR / LOADER_FILE)
        if self.calibration_cache is None:
            raise ValueError("--int8 needs --calibration-frames DIR (calibrate on them) or --calibration-cache FILE")
        if not self.calibration_cache.is_file():
            raise FileNotFoundError(f"calibration cache {self.calibration_cache} does not exist")
        return Calibration(self.calibration_cache)


def input_size(onnx: Path) -> int:
    """S of the served graph's (batch, S, S, 3) images input."""
    inputs, _ = onnx_signature(onnx)
    return inputs[DETECTOR_INPUT].dims[1]


def prepare_calibration(build: TensorRtBuild, frames_dir: Path) -> None:
    """Letterbox the calibration frames and write them, with the loader, where the build's command expects."""
    if build.int8 is None or build.int8.loader is None:
        raise ValueError("this build does not calibrate on frames")
    frames = LetterboxedFrames.of(load_golden(frames_dir), input_size(build.onnx))
    write_frames(frames, build.int8.loader.parent, build.opt_batch)


def plan_parity(onnx: Path, plan: Path, golden_dir: Path | None) -> dict[str, Any]:
    """The plan against the served graph on the golden frames (one batch of them, as the tolerances were set):
    the report's ``tensorrt_parity``. TensorRtUnavailableError when polygraphy is missing."""
    require("polygraphy")
    frames = load_golden(golden_dir) if golden_dir is not None else load_golden()
    with tempfile.TemporaryDirectory(prefix="pitchside-parity-") as scratch:
        work = Path(scratch)
        loader = write_frames(LetterboxedFrames.of(frames, input_size(onnx)), work, min(len(frames), GPU_MAX_BATCH))
        check = ParityCheck(onnx, plan, loader, work / REFERENCE_OUTPUTS)
        result: dict[str, Any] = {
            "checked": True,
            "plan": plan.name,
            "plan_sha256": sha256_of(plan),
            "frames": len(frames),
            "commands": [shlex.join(c) for c in parity_commands(check)],
            "tolerances": {name or "*": [t.absolute, t.stat] for name, t in check.tolerances.items()},
        }
        try:
            check_parity(check)
        except ConversionError as exc:
            return {**result, "passed": False, "why": f"TensorRT parity failed: {exc}"}
    return {**result, "passed": True}
