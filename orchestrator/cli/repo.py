"""``pitchside repo``: check the model repository, render it for a deployment profile."""

from pathlib import Path
from typing import Annotated

import typer

from orchestrator.cli.options import ModelRepositoryOption
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY
from orchestrator.repository.check import check_repository
from orchestrator.repository.model_config import RepositoryError
from orchestrator.repository.profiles import Profile, render

app = typer.Typer(help="Check and render the Triton model repository.", no_args_is_help=True)


@app.command("check")
def check(
    path: Annotated[Path, typer.Argument(help="Model repository to check.")] = DEFAULT_MODEL_REPOSITORY,
) -> None:
    """Parse every config.pbtxt and check ensemble edges and ONNX signatures; exit 1 on any problem."""
    problems = check_repository(path)
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
    plan: Annotated[Path | None, typer.Option(help="TensorRT plan for the GPU detector.", exists=True)] = None,
) -> None:
    """Render the repository for a profile (gpu: TensorRT detector) and check the result."""
    try:
        render(model_repository, profile, out, plan)
    except (RepositoryError, FileExistsError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    problems = check_repository(out)
    for problem in problems:
        typer.echo(f"warning: {problem}", err=True)
    typer.echo(f"rendered the {profile} profile into {out}")
