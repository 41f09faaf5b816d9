"""``pitchside model``: a researcher's ONNX to the model store, the same way in CI and by hand.

check (can it be served?) -> build (the served graph) -> validate (the accuracy gate) -> publish (immutable, to S3).
"""

import asyncio
import json
import shlex
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from orchestrator.contract import DETECTOR_MODEL
from orchestrator.modelstore.golden import load_golden
from orchestrator.modelstore.plan_build import (
    DEFAULT_PLAN,
    GPU_OPT_BATCH,
    PlanOptions,
    plan_parity,
    prepare_calibration,
)
from orchestrator.modelstore.publish import LABELS_FILE, PublishRefusedError, plan_publish, publish
from orchestrator.modelstore.rollout import LOAD_TIMEOUT_S, RolloutError, rollout
from orchestrator.modelstore.source_check import check_source, read_labels
from orchestrator.modelstore.store_read import StoreReadError, read_version
from orchestrator.modelstore.store_uri import StoreUri, StoreUriError
from orchestrator.modelstore.validation import validate_detector
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY
from orchestrator.repository.detector_build import DetectorBuild
from orchestrator.repository.detector_graph import GraphBuildError
from orchestrator.repository.model_config import RepositoryError, load_model
from orchestrator.repository.profiles import GPU_MAX_BATCH, Profile
from orchestrator.repository.tensorrt import Builder, ConversionError, build_command, convert
from orchestrator.triton.addresses import every_address, split_host_port
from orchestrator.triton.errors import TritonError

app = typer.Typer(help="Check, build, validate and publish a researcher's model.", no_args_is_help=True)

RepositoryOption = Annotated[Path, typer.Option("--repository", help="The model repository holding the model.")]
ModelOption = Annotated[str, typer.Option("--model", help="The model's directory name in the repository.")]


@app.command("check")
def check(
    onnx_file: Annotated[Path, typer.Argument(help="The researcher's ONNX.", exists=True, dir_okay=False)],
    labels: Annotated[
        Path, typer.Option(help="Class names, one per line, in class-id order.", exists=True, dir_okay=False)
    ],
) -> None:
    """Say whether the ONNX and its labels can be served as a detector, and what to fix if not."""
    report = check_source(onnx_file, read_labels(labels))
    for problem in report.problems:
        typer.echo(f"error: {problem}", err=True)
    if not report.ok:
        raise typer.Exit(code=1)
    layout = report.layout
    assert layout is not None  # ok implies a layout
    typer.echo(
        f"{onnx_file.name}: ok: opset {report.opset}, input {layout.input_size}x{layout.input_size}, "
        f"{layout.num_classes} classes, {layout.num_anchors} anchors"
    )


@app.command("build")
def build(
    repository: RepositoryOption = DEFAULT_MODEL_REPOSITORY,
    model: ModelOption = DETECTOR_MODEL,
    profile: Annotated[
        Profile,
        typer.Option(help="cpu: the served graph; gpu: that graph, then a TensorRT plan for the GPU this runs on."),
    ] = Profile.CPU,
    plan: Annotated[Path, typer.Option(help="GPU: where to write the plan (one per GPU architecture).")] = (
        DEFAULT_PLAN
    ),
    builder: Annotated[
        Builder | None, typer.Option(help="GPU: trtexec (default) or polygraphy (needed to calibrate int8 on frames).")
    ] = None,
    timing_cache: Annotated[
        Path | None,
        typer.Option(help="GPU: TensorRT timing cache, read and updated (keep one per GPU type between builds)."),
    ] = None,
    fp16: Annotated[bool, typer.Option(help="GPU: allow FP16 kernels.")] = True,
    int8: Annotated[
        bool, typer.Option(help="GPU: allow INT8 kernels; needs --calibration-frames or --calibration-cache.")
    ] = False,
    calibration_frames: Annotated[
        Path | None,
        typer.Option(
            help="GPU, int8: stills and videos to calibrate on, letterboxed as served.", exists=True, file_okay=False
        ),
    ] = None,
    calibration_cache: Annotated[
        Path | None,
        typer.Option(help="GPU, int8: the calibration cache (written when calibrating on frames, else read)."),
    ] = None,
    max_batch: Annotated[int, typer.Option(min=1, help="GPU: the largest batch the plan accepts.")] = GPU_MAX_BATCH,
    opt_batch: Annotated[int, typer.Option(min=1, help="GPU: the batch TensorRT tunes for (and calibrates at).")] = (
        GPU_OPT_BATCH
    ),
    dry_run: Annotated[bool, typer.Option(help="GPU: print the TensorRT command instead of running it.")] = False,
) -> None:
    """Build the served graph from the model's source ONNX and the settings in its config; for the GPU profile,
    then the TensorRT plan of that graph on this GPU."""
    options = PlanOptions(
        plan, builder, timing_cache, fp16, int8, calibration_frames, calibration_cache, max_batch, opt_batch
    )
    if profile is Profile.CPU and (options != PlanOptions(plan) or dry_run):
        typer.echo(
            "error: the TensorRT options (--builder, --timing-cache, --int8, ...) are for --profile gpu", err=True
        )
        raise typer.Exit(code=2)
    try:
        detector = DetectorBuild.of(load_model(repository / model))
        written = detector.write()
        if profile is Profile.GPU:
            _build_plan(written, options, dry_run)
    except (RepositoryError, GraphBuildError, ValueError, FileNotFoundError, ConversionError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"wrote {written} from {detector.source.name}")


def _build_plan(onnx: Path, options: PlanOptions, dry_run: bool) -> None:
    build = options.build(onnx)
    if dry_run:
        typer.echo(shlex.join(build_command(build)))
        return
    if options.calibration_frames is not None:
        prepare_calibration(build, options.calibration_frames)
    convert(build)
    typer.echo(f"wrote {build.plan} with {build.builder}")


@app.command("validate")
def validate(
    repository: RepositoryOption = DEFAULT_MODEL_REPOSITORY,
    model: ModelOption = DETECTOR_MODEL,
    golden: Annotated[
        Path | None,
        typer.Option(help="Golden stills and videos (default: the bundled media).", exists=True, file_okay=False),
    ] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the validation report here.")] = None,
    plan: Annotated[
        Path | None,
        typer.Option(
            help="A TensorRT plan of the built graph (`model build --profile "
            "gpu`): also check its parity with ONNX Runtime on the golden "
            "frames (needs polygraphy and TensorRT).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """The accuracy gate: the built graph against the researcher's model on golden frames; with --plan, the
    plan's parity with that graph too; exit 1 if either fails."""
    try:
        detector = DetectorBuild.of(load_model(repository / model))
        if not detector.is_current():
            raise RepositoryError(f"{model}/1/{detector.served.name} is stale: run `pitchside model build` first")
        report = validate_detector(detector, model, golden)
        if plan is not None:
            report = replace(report, tensorrt_parity=plan_parity(detector.served, plan, golden))
    except (RepositoryError, GraphBuildError, ValueError, FileNotFoundError, ConversionError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    gate = report.gate
    found = sum(f.source for f in gate.frames)
    typer.echo(
        f"{model}: {len(report.golden)} golden frames, {found} source detections; recall {gate.recall:.4f}, "
        f"precision {gate.precision:.4f}, score drift {gate.max_score_drift:.4f}"
    )
    parity = report.tensorrt_parity
    passed = report.passed and parity.get("passed", True) is True
    if parity.get("checked"):
        typer.echo(f"{plan}: parity with ONNX Runtime {'within' if parity['passed'] else 'OUT OF'} tolerance")
    if json_path is not None:
        json_path.write_text(json.dumps({**report.as_json(), "passed": passed}, indent=2) + "\n", encoding="utf-8")
        typer.echo(f"report written to {json_path}")
    for reason in [*gate.reasons, *([parity["why"]] if parity.get("passed") is False else [])]:
        typer.echo(f"error: {reason}", err=True)
    if not passed:
        raise typer.Exit(code=1)
    typer.echo("passed")


@app.command("publish")
def publish_version(
    store: Annotated[str, typer.Option(help="s3://BUCKET/PREFIX or s3://HOST:PORT/BUCKET/PREFIX.")],
    version: Annotated[int, typer.Option(help="The version number to publish as (never reused).")],
    repository: RepositoryOption = DEFAULT_MODEL_REPOSITORY,
    model: ModelOption = DETECTOR_MODEL,
    validation: Annotated[
        Path | None, typer.Option(help="The `model validate --json` report of this build.", exists=True, dir_okay=False)
    ] = None,
) -> None:
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
    triton_url: Annotated[
        list[str],
        typer.Option(
            help="gRPC host:port of a Triton to roll out on (explicit model control, e.g. `pitchside serve "
            "--model-repository s3://…`); repeat it for several servers."
        ),
    ],
    store: Annotated[str, typer.Option(help="The model store the server serves from.")],
    version: Annotated[int, typer.Option(help="The published version to put into service.")],
    model: ModelOption = DETECTOR_MODEL,
    golden: Annotated[
        Path | None,
        typer.Option(help="Golden stills and videos (default: the bundled media).", exists=True, file_okay=False),
    ] = None,
    load_timeout_s: Annotated[
        float, typer.Option("--load-timeout", min=1.0, help="Seconds Triton may take to load a version.")
    ] = LOAD_TIMEOUT_S,
    every_pod: Annotated[
        bool,
        typer.Option(
            "--every-pod",
            help="Roll out on every address each --triton-url's name resolves to (a Kubernetes headless "
            "Service: every ready Triton pod).",
        ),
    ] = False,
) -> None:
    """Stage the version beside the live one, check it through the server on golden frames, move traffic to it
    and unload the old one; stop (or roll back) by itself when a check fails. With several servers, every one
    is checked before any moves, and a failure rolls back the ones already moved."""
    try:
        servers = _rollout_servers(triton_url, every_pod)
        target = StoreUri.parse(store)
        published = asyncio.run(read_version(target, model, version))
        frames = load_golden(golden) if golden is not None else load_golden()
        progress = lambda m: typer.echo(m, err=True)  # noqa: E731
        result = asyncio.run(rollout(servers, target, published, frames, progress, load_timeout_s))
    except (StoreUriError, StoreReadError, RolloutError, FileNotFoundError, TritonError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    was = ", ".join(result.previous_versions) or "none"
    typer.echo(f"{result.model} version {result.version} serving on {len(result.servers)} server(s) (was {was})")


def _rollout_servers(urls: list[str], every_pod: bool) -> tuple[str, ...]:
    """The servers to roll out on, each once: the URLs as given, or each name's every address."""
    for url in urls:
        split_host_port(url)  # a malformed address stops the rollout before anything is read
    servers = [address for url in urls for address in every_address(url)] if every_pod else urls
    return tuple(dict.fromkeys(servers))


def _read_json(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read the validation report {path}: {exc}") from exc
