"""ONNX -> TensorRT plan conversion with ``trtexec`` (CI model-conversion jobs, GPU nodes).

A plan is tied to the GPU model and the TensorRT version that built it, so it is built where it runs
(or per GPU type in CI) from the ONNX file in the repository, with the batch range the config declares.
"""

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from orchestrator.repository.onnx_graph import onnx_signature


class ConversionError(Exception):
    """trtexec is missing or failed; the message carries its output tail."""


@dataclass(frozen=True)
class TensorRtBuild:
    onnx: Path
    plan: Path
    max_batch: int
    opt_batch: int
    fp16: bool = True
    workspace_mib: int = 2048


def trtexec_command(build: TensorRtBuild, trtexec: str = "trtexec") -> list[str]:
    """The trtexec command line: an explicit-batch engine covering batch 1..max_batch for every input."""
    inputs, _ = onnx_signature(build.onnx)

    def shapes(batch: int) -> str:
        return ",".join(f"{name}:{'x'.join(str(d) for d in (batch, *spec.dims[1:]))}" for name, spec in inputs.items())

    command = [
        trtexec,
        f"--onnx={build.onnx}",
        f"--saveEngine={build.plan}",
        f"--minShapes={shapes(1)}",
        f"--optShapes={shapes(build.opt_batch)}",
        f"--maxShapes={shapes(build.max_batch)}",
        f"--memPoolSize=workspace:{build.workspace_mib}M",
    ]
    return [*command, "--fp16"] if build.fp16 else command


def convert(build: TensorRtBuild) -> None:
    """Run trtexec; raise ConversionError with a clear message when it is missing or fails."""
    trtexec = shutil.which("trtexec")
    if trtexec is None:
        raise ConversionError(
            "trtexec not found on PATH: run this in an NGC TensorRT or tritonserver image on the target GPU type"
        )
    build.plan.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(trtexec_command(build, trtexec), capture_output=True, text=True, check=False)
    if result.returncode != 0 or not build.plan.is_file():
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise ConversionError(f"trtexec failed with code {result.returncode}:\n{tail}")
