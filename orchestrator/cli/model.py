"""``pitchside model``: a researcher's ONNX to the model store, the same way in CI and by hand.

check (can it be served?) -> build (the served graph) -> validate (the accuracy gate) -> publish (immutable, to S3).
"""

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from orchestrator.contract import DETECTOR_MODEL
from orchestrator.modelstore.golden import load_golden
from orchestrator.modelstore.publish import LABELS_FILE, PublishRefusedError, plan_publish, publish
from orchestrator.modelstore.rollout import RolloutError, rollout
from orchestrator.modelstore.source_check import check_source, read_labels
from orchestrator.modelstore.store_read import StoreReadError, read_version
from orchestrator.modelstore.store_uri import StoreUri, StoreUriError
from orchestrator.modelstore.validation import validate_detector
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY
from orchestrator.repository.detector_build import DetectorBuild
from orchestrator.repository.detector_graph import GraphBuildError
from orchestrator.repository.model_config import RepositoryError, load_model
from orchestrator.triton.errors import TritonError

app = typer.Typer(help="Check, build, validate and publish a researcher's model.", no_args_is_help=True)

RepositoryOption = Annotated[Path, typer.Option("--repository", help="The model repository holding the model.")]
ModelOption = Annotated[str, typer.Option("--model", help="The model's directory name in the repository.")]


@app.command("check")
def check(
    onnx_file: Annotated[Path, typer.Argument(help="The researcher's ONNX.", exists=True, dir_okay=False)],
    labels: Annotated[Path, typer.Option(help="Class names, one per line, in class-id order.", exists=True,
                                         dir_okay=False)],
) -> None:  # fmt: skip
    """Say whether the ONNX and its labels can be served as a detector, and what to fix if not."""
    report = check_source(onnx_file, read_labels(labels))
    for problem in report.problems:
        typer.echo(f"error: {problem}", err=True)
    if not report.ok:
        raise typer.Exit(code=1)
    layout = report.layout
    assert layout is not None  # ok implies a layout
    typer.echo(f"{onnx_file.name}: ok: opset {report.opset}, input {layout.input_size}x{layout.input_size}, "
               f"{layout.num_classes} classes, {layout.num_anchors} anchors")  # fmt: skip


@app.command("build")
def build(repository: RepositoryOption = DEFAULT_MODEL_REPOSITORY, model: ModelOption = DETECTOR_MODEL) -> None:
    """Build the served graph from the model's source ONNX and the settings in its config."""
    try:
        detector = DetectorBuild.of(load_model(repository / model))
        written = detector.write()
    except (RepositoryError, GraphBuildError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"wrote {written} from {detector.source.name}")


@app.command("validate")
def validate(
    repository: RepositoryOption = DEFAULT_MODEL_REPOSITORY,
    model: ModelOption = DETECTOR_MODEL,
    golden: Annotated[Path | None, typer.Option(help="Golden stills and videos (default: the bundled media).",
                                                exists=True, file_okay=False)] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the validation report here.")] = None,
) -> None:  # fmt: skip
    """The accuracy gate: the built graph against the researcher's model on golden frames; exit 1 if it fails."""
    try:
        detector = DetectorBuild.of(load_model(repository / model))
        if not detector.is_current():
            raise RepositoryError(f"{model}/1/{detector.served.name} is stale: run `pitchside model build` first")
        report = validate_detector(detector, model, golden)
    except (RepositoryError, GraphBuildError, ValueError, FileNotFoundError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    gate = report.gate
    found = sum(f.source for f in gate.frames)
    typer.echo(f"{model}: {len(report.golden)} golden frames, {found} source detections; recall {gate.recall:.4f}, "
               f"precision {gate.precision:.4f}, score drift {gate.max_score_drift:.4f}")  # fmt: skip
    if json_path is not None:
        json_path.write_text(json.dumps(report.as_json(), indent=2) + "\n", encoding="utf-8")
        typer.echo(f"report written to {json_path}")
    for reason in gate.reasons:
        typer.echo(f"error: {reason}", err=True)
    if not report.passed:
        raise typer.Exit(code=1)
    typer.echo("passed")


@app.command("publish")
def publish_version(
    store: Annotated[str, typer.Option(help="s3://BUCKET/PREFIX or s3://HOST:PORT/BUCKET/PREFIX.")],
    version: Annotated[int, typer.Option(help="The version number to publish as (never reused).")],
    repository: RepositoryOption = DEFAULT_MODEL_REPOSITORY,
    model: ModelOption = DETECTOR_MODEL,
    validation: Annotated[Path | None, typer.Option(help="The `model validate --json` report of this build.",
                                                    exists=True, dir_okay=False)] = None,
) -> None:  # fmt: skip
    """Publish the model's built version to the store with its manifest; refuses an unvalidated or failed build
    and an existing version."""
    try:
        target = StoreUri.parse(store)
        plan = plan_publish(repository / model, version, _read_json(validation))
        keys = asyncio.run(publish(plan, target))
    except (StoreUriError, PublishRefusedError, RepositoryError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    labels = len(read_labels(repository / model / LABELS_FILE)) if (repository / model / LABELS_FILE).is_file() else 0
    typer.echo(f"published {model} version {version} to {target} ({len(keys)} objects, {labels} labels)")


@app.command("rollout")
def rollout_version(
    triton_url: Annotated[str, typer.Option(help="gRPC host:port of the Triton to roll out on (explicit model "
                                                 "control, e.g. `pitchside serve --model-repository s3://…`).")],
    store: Annotated[str, typer.Option(help="The model store the server serves from.")],
    version: Annotated[int, typer.Option(help="The published version to put into service.")],
    model: ModelOption = DETECTOR_MODEL,
    golden: Annotated[Path | None, typer.Option(help="Golden stills and videos (default: the bundled media).",
                                                exists=True, file_okay=False)] = None,
) -> None:  # fmt: skip
    """Stage the version beside the live one, check it through the server on golden frames, move traffic to it
    and unload the old one; stop (or roll back) by itself when a check fails."""
    try:
        target = StoreUri.parse(store)
        published = asyncio.run(read_version(target, model, version))
        frames = load_golden(golden) if golden is not None else load_golden()
        result = asyncio.run(rollout(triton_url, target, published, frames, lambda m: typer.echo(m, err=True)))
    except (StoreUriError, StoreReadError, RolloutError, FileNotFoundError, TritonError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"{result.model} version {result.version} serving (was {', '.join(result.previous_versions) or 'none'})")


def _read_json(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read the validation report {path}: {exc}") from exc
