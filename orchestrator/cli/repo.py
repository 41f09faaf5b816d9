"""``pitchside repo``: check the model repository, render it for a deployment profile."""

from pathlib import Path
from typing import Annotated

import typer

from orchestrator.cli.options import ModelRepositoryOption
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY
from orchestrator.repository.check import check_repository, unverified_plans
from orchestrator.repository.model_config import RepositoryError
from orchestrator.repository.profiles import (
    DEFAULT_CPU_INSTANCES,
    GPU_DETECTOR_INSTANCES,
    GPU_MAX_BATCH,
    GPU_PREFERRED_BATCHES,
    GpuSettings,
    Profile,
    render,
)

app = typer.Typer(help="Check and render the Triton model repository.", no_args_is_help=True)


@app.command("check")
def check(
    path: Annotated[Path, typer.Argument(help="Model repository to check.")] = DEFAULT_MODEL_REPOSITORY,
) -> None:
    """Parse every config.pbtxt and check ensemble edges and ONNX signatures; exit 1 on any problem."""
    problems = check_repository(path)
    for note in unverified_plans(path):
        typer.echo(f"note: {note}", err=True)
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    if problems:
        typer.echo(f"{len(problems)} problem(s) in {path}", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"{path}: ok")


@app.command("render")
def render_profile(
    out: Annotated[Path, typer.Option(help="Directory to write the rendered repository into.")],
    profile: Annotated[Profile, typer.Option(help="Deployment profile.")] = Profile.GPU,
    model_repository: ModelRepositoryOption = DEFAULT_MODEL_REPOSITORY,
    plan: Annotated[
        list[str] | None,
        typer.Option(
            help="TensorRT plan for the GPU detector: CC=PATH for one GPU architecture (9.0 H100/H200, 8.9 L4, "
            "8.6 A10G), or PATH for the default plan. Repeatable."
        ),
    ] = None,
    max_batch: Annotated[int, typer.Option(min=1, help="GPU: the detector's max_batch_size.")] = GPU_MAX_BATCH,
    detector_instances: Annotated[
        int, typer.Option(min=1, help="GPU: detector instances per GPU.")
    ] = GPU_DETECTOR_INSTANCES,
    cpu_instances: Annotated[
        int, typer.Option(min=1, help="GPU: instances of the Python pre-processing step.")
    ] = DEFAULT_CPU_INSTANCES,
    cuda_graphs: Annotated[bool, typer.Option(help="GPU: capture CUDA graphs for the preferred batch sizes.")] = True,
) -> None:
    """Render the repository for a profile (gpu: TensorRT detector tuned for the GPU) and check the result."""
    try:
        plans = _plans(plan or [])
        preferred = tuple(b for b in GPU_PREFERRED_BATCHES if b <= max_batch) or (max_batch,)
        gpu = GpuSettings(
            max_batch,
            preferred,
            detector_instances=detector_instances,
            cpu_instances=cpu_instances,
            cuda_graphs=cuda_graphs,
        )
        render(model_repository, profile, out, plans, gpu)
    except (RepositoryError, FileExistsError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    problems = check_repository(out)
    for note in unverified_plans(out):
        typer.echo(f"note: {note}", err=True)
    for problem in problems:
        typer.echo(f"warning: {problem}", err=True)
    typer.echo(f"rendered the {profile} profile into {out}")


def _plans(values: list[str]) -> dict[str, Path]:
    plans: dict[str, Path] = {}
    for value in values:
        capability, _, path = value.rpartition("=")
        if not Path(path).is_file():
            raise ValueError(f"--plan {value!r}: {path} is not a file")
        plans[capability] = Path(path)
    return plans
