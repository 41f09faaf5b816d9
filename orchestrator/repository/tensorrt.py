"""ONNX -> TensorRT plans, and the ONNX Runtime vs TensorRT parity check, with NVIDIA's own tools.

A plan is tied to the GPU model and the TensorRT version that built it, so it is built on the architecture it
will serve (a GPU CI runner or the model-build Job, docs/MODELS.md), from the served graph, with the batch range
the GPU profile declares. The command lines are rendered here as argument lists (unit-tested without TensorRT)
and only run where the tools exist:

* ``trtexec`` (the default builder): fp16, a timing cache shared across builds, int8 from a calibration cache;
* ``polygraphy convert``: the same, and int8 calibrated on letterboxed frames fed by a data loader script
  (``orchestrator/modelstore/frames_loader.py``), which trtexec cannot do;
* ``polygraphy run``: the served graph under ONNX Runtime, then the built plan under TensorRT on the same inputs,
  compared output by output within ``PARITY_TOLERANCES``.
"""

import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Final

from orchestrator.contract import OUTPUT_DETECTIONS, OUTPUT_NUM_DETECTIONS
from orchestrator.repository.onnx_graph import onnx_signature

DEFAULT_WORKSPACE_MIB: Final = 2048
LOADER_FUNCTION: Final = "load_data"
"""The function polygraphy calls in a data loader script."""
NGC_HINT: Final = "run it in the NGC TensorRT image of the Triton release (tensorrt:24.10-py3) on the target GPU"


class ConversionError(Exception):
    """A TensorRT tool failed; the message carries its output tail."""


class TensorRtUnavailableError(ConversionError):
    """The tool is not installed here (no TensorRT): nothing was built or compared."""


class Builder(StrEnum):
    TRTEXEC = "trtexec"
    POLYGRAPHY = "polygraphy"


@dataclass(frozen=True)
class Tolerance:
    """polygraphy's comparison of one output: ``absolute`` bounds the error statistic ``stat`` (max, mean...)."""

    absolute: float
    stat: str = "max"


PARITY_TOLERANCES: Final[Mapping[str, Tolerance]] = {
    # Counts may differ by a box or two near the threshold (the last rows), and DETECTIONS (source pixels) by 0.1
    # in mean absolute difference over all K rows of every frame: measured on the ONNX Runtime output, one or
    # two borderline boxes lost cost 0.03-0.07 and every box moved 3 px 0.04 (pass); three lost or every box
    # moved 10 px 0.10-0.13 and one high-scoring box lost 0.34 (fail). Starting points: tune on the first GPU runs.
    OUTPUT_DETECTIONS: Tolerance(0.1, "mean"),
    OUTPUT_NUM_DETECTIONS: Tolerance(2, "max"),
    # Any other output (scores): the accuracy gate's bound on a matched score's drift.
    "": Tolerance(0.02, "max"),
}
"""Output name -> tolerance; ``""`` is every output not named."""


@dataclass(frozen=True)
class Calibration:
    """int8 calibration: from frames (a polygraphy data loader script; the cache is written) or from an existing
    calibration cache alone (``loader`` None; the cache is read)."""

    cache: Path
    loader: Path | None = None


@dataclass(frozen=True)
class TensorRtBuild:
    onnx: Path
    plan: Path
    max_batch: int
    opt_batch: int
    fp16: bool = True
    workspace_mib: int = DEFAULT_WORKSPACE_MIB
    timing_cache: Path | None = None
    """Tactic timings shared across builds on one GPU type: a rebuild skips most of the tuning."""
    int8: Calibration | None = None
    builder: Builder = Builder.TRTEXEC

    def __post_init__(self) -> None:
        if not 1 <= self.opt_batch <= self.max_batch:
            raise ValueError(f"opt batch {self.opt_batch} must lie within 1..{self.max_batch}")
        if self.builder is Builder.TRTEXEC and self.int8 is not None and self.int8.loader is not None:
            raise ValueError("trtexec cannot calibrate from frames: build int8 with polygraphy, or from a cache")


def shapes(onnx: Path, batch: int) -> dict[str, tuple[int, ...]]:
    """Every input's shape at ``batch``: the graph's dims with the dynamic batch axis set."""
    inputs, _ = onnx_signature(onnx)
    return {name: (batch, *spec.dims[1:]) for name, spec in inputs.items()}


def trtexec_command(build: TensorRtBuild, trtexec: str = "trtexec") -> list[str]:
    """The trtexec command line: an explicit-batch engine covering batch 1..max_batch for every input."""

    def flag(batch: int) -> str:
        return ",".join(f"{name}:{'x'.join(map(str, dims))}" for name, dims in shapes(build.onnx, batch).items())

    command = [
        trtexec,
        f"--onnx={build.onnx}",
        f"--saveEngine={build.plan}",
        f"--minShapes={flag(1)}",
        f"--optShapes={flag(build.opt_batch)}",
        f"--maxShapes={flag(build.max_batch)}",
        f"--memPoolSize=workspace:{build.workspace_mib}M",
    ]
    command += [f"--timingCacheFile={build.timing_cache}"] if build.timing_cache is not None else []
    command += ["--fp16"] if build.fp16 else []
    return command + (["--int8", f"--calib={build.int8.cache}"] if build.int8 is not None else [])


def polygraphy_convert_command(build: TensorRtBuild, polygraphy: str = "polygraphy") -> list[str]:
    """The ``polygraphy convert`` command line for the same engine; with int8 frames, calibrated on them."""

    def flag(batch: int) -> list[str]:
        return [f"{name}:[{','.join(map(str, dims))}]" for name, dims in shapes(build.onnx, batch).items()]

    command = [
        polygraphy,
        "convert",
        str(build.onnx),
        "--convert-to",
        "trt",
        "-o",
        str(build.plan),
        "--trt-min-shapes",
        *flag(1),
        "--trt-opt-shapes",
        *flag(build.opt_batch),
        "--trt-max-shapes",
        *flag(build.max_batch),
        "--pool-limit",
        f"workspace:{build.workspace_mib}M",
    ]
    if build.timing_cache is not None:
        command += ["--load-timing-cache", str(build.timing_cache), "--save-timing-cache", str(build.timing_cache)]
    command += ["--fp16"] if build.fp16 else []
    if build.int8 is not None:
        command += ["--int8", "--calibration-cache", str(build.int8.cache)]
        if build.int8.loader is not None:
            command += ["--data-loader-script", f"{build.int8.loader}:{LOADER_FUNCTION}"]
    return command


def build_command(build: TensorRtBuild) -> list[str]:
    """The command of the build's builder (tool names as on PATH)."""
    return trtexec_command(build) if build.builder is Builder.TRTEXEC else polygraphy_convert_command(build)


@dataclass(frozen=True)
class ParityCheck:
    """The served graph under ONNX Runtime against the built plan under TensorRT, on the loader's frames."""

    onnx: Path
    plan: Path
    loader: Path
    reference_outputs: Path
    """Where the ONNX Runtime run saves its outputs (JSON) for the TensorRT run to compare with."""
    tolerances: Mapping[str, Tolerance] = field(default_factory=lambda: dict(PARITY_TOLERANCES))


def parity_commands(check: ParityCheck, polygraphy: str = "polygraphy") -> list[list[str]]:
    """``polygraphy run --onnxrt`` on the graph (outputs saved), then ``polygraphy run --trt`` on the plan (as an
    engine: the plan that ships, not one polygraphy would build) compared with them; the second exits non-zero
    when an output is out of tolerance."""
    data = ["--data-loader-script", f"{check.loader}:{LOADER_FUNCTION}"]
    reference = [polygraphy, "run", str(check.onnx), "--onnxrt", *data, "--save-outputs", str(check.reference_outputs)]
    compare = [
        polygraphy,
        "run",
        str(check.plan),
        "--model-type",
        "engine",
        "--trt",
        *data,
        "--load-outputs",
        str(check.reference_outputs),
        "--atol",
        *_per_output(check.tolerances, lambda t: _number(t.absolute)),
        "--rtol",
        *_per_output(check.tolerances, lambda t: "0"),
        "--check-error-stat",
        *_per_output(check.tolerances, lambda t: t.stat),
    ]
    return [reference, compare]


def _per_output(tolerances: Mapping[str, Tolerance], value: Callable[[Tolerance], str]) -> list[str]:
    """polygraphy's ``[NAME:]VALUE`` list: the bare value (every other output) first, then one per output."""
    return [f"{name}:{value(t)}" if name else value(t) for name, t in sorted(tolerances.items())]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def require(tool: str) -> str:
    """The tool's path on PATH, or TensorRtUnavailableError naming where to run it."""
    path = shutil.which(tool)
    if path is None:
        raise TensorRtUnavailableError(f"{tool} not found on PATH (TensorRT is not installed here): {NGC_HINT}")
    return path


def run_tool(command: Sequence[str]) -> str:
    """Run a rendered command (its first word looked up on PATH); its output, or ConversionError with the tail."""
    executable = require(command[0])
    result = subprocess.run([executable, *command[1:]], capture_output=True, text=True, check=False)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        tail = "\n".join(output.splitlines()[-30:])
        raise ConversionError(f"{command[0]} {' '.join(command[1:2])} failed with code {result.returncode}:\n{tail}")
    return output


def convert(build: TensorRtBuild) -> None:
    """Build the plan with the build's builder; TensorRtUnavailableError without it, ConversionError if it fails.
    The plan is written under a temporary name and renamed, so a failed build never leaves a plan behind."""
    command = build_command(build)
    require(command[0])
    build.plan.parent.mkdir(parents=True, exist_ok=True)
    partial = build.plan.with_name(build.plan.name + ".partial")
    run_tool(build_command(replace(build, plan=partial)))
    if not partial.is_file():
        raise ConversionError(f"{command[0]} exited 0 but wrote no plan at {partial}")
    partial.replace(build.plan)


def check_parity(check: ParityCheck) -> str:
    """Run both parity commands; ConversionError (with polygraphy's report) when the plan is out of tolerance."""
    commands = parity_commands(check)
    require(commands[0][0])
    return "".join(run_tool(command) for command in commands)
