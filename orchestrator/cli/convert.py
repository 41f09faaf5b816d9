"""``pitchside convert``: build a TensorRT plan from the detector's served graph (for the GPU profile's batches)."""

from pathlib import Path
from typing import Annotated

import typer

from orchestrator.paths import DEFAULT_MODEL_REPOSITORY
from orchestrator.repository.profiles import GPU_MAX_BATCH
from orchestrator.repository.tensorrt import ConversionError, TensorRtBuild, convert, trtexec_command

app = typer.Typer(help="Convert models for deployment.", no_args_is_help=True)
DEFAULT_ONNX = DEFAULT_MODEL_REPOSITORY / "detector" / "1" / "model.onnx"


@app.command("onnx-to-trt")
def onnx_to_trt(
    out: Annotated[Path, typer.Option(help="Where to write the TensorRT plan (model.plan).")],
    onnx: Annotated[Path, typer.Option(help="ONNX graph to convert.", exists=True)] = DEFAULT_ONNX,
    max_batch: Annotated[int, typer.Option(min=1, help="Largest batch the plan accepts.")] = GPU_MAX_BATCH,
    opt_batch: Annotated[int, typer.Option(min=1, help="Batch size TensorRT tunes for.")] = GPU_MAX_BATCH // 2,
    fp16: Annotated[bool, typer.Option(help="Allow FP16 kernels.")] = True,
    dry_run: Annotated[bool, typer.Option(help="Print the trtexec command instead of running it.")] = False,
) -> None:
    """Build a TensorRT plan for the GPU this runs on (plans are tied to GPU model and TensorRT version)."""
    build = TensorRtBuild(onnx, out, max_batch, min(opt_batch, max_batch), fp16)
    if dry_run:
        typer.echo(" ".join(trtexec_command(build)))
        return
    try:
        convert(build)
    except ConversionError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"wrote {out}")
