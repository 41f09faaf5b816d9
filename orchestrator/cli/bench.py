"""``pitchside bench``: measure latency and throughput the way an engineer can trust and compare.

``bench model`` sweeps concurrency (or request rate) against a model or ensemble and measures the
direct baseline beside every level; ``bench compare`` sets two saved reports side by side;
``bench schema`` prints the JSON Schema every report validates against.
"""

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from orchestrator.bench.compare import compare_reports
from orchestrator.bench.footage import FootageError
from orchestrator.bench.model_bench import run_model_bench
from orchestrator.bench.payloads import PayloadError
from orchestrator.bench.pipeline_bench import (
    DIRECT_WINDOWS,
    QUICK_DIRECT_WINDOWS,
    PipelineBenchConfig,
    run_pipeline_bench,
)
from orchestrator.bench.plots import PlotsUnavailableError, write_plots
from orchestrator.bench.report import model_report
from orchestrator.bench.report_schema import ReportInvalidError, report_schema, validate_report
from orchestrator.bench.settings import (
    DEFAULT_CONCURRENCY,
    DEFAULT_FOOTAGE,
    DEFAULT_FRAMES,
    DEFAULT_MAX_INFLIGHT,
    DEFAULT_REQUEST_TIMEOUT_S,
    QUICK_CONCURRENCY,
    QUICK_WINDOWS,
    Arrival,
    LoadMode,
    LoadSettings,
    ModelBenchConfig,
    WindowSettings,
)
from orchestrator.bench.table import render_report
from orchestrator.cli.options import ModelRepositoryOption, TritonUrlOption
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY
from orchestrator.triton.errors import TritonError
from orchestrator.triton.wire import WireFormat

app = typer.Typer(help="Benchmark latency and throughput (perf_analyzer-style, with a direct baseline).",
                  no_args_is_help=True)  # fmt: skip

_WIRES = {"letterbox": (WireFormat.LETTERBOX,), "raw": (WireFormat.RAW,), "jpeg": (WireFormat.JPEG,),
          "both": (WireFormat.RAW, WireFormat.JPEG)}  # fmt: skip
_DEFAULT_WINDOWS = WindowSettings()


@app.command("model")
def model(
    model_name: Annotated[str | None, typer.Option("--model", help=(
        "Model or ensemble to benchmark (default: the wire's own: detector for letterbox, detection otherwise)."))]
        = None,
    concurrency: Annotated[str | None, typer.Option(
        help="Comma-separated concurrency levels (default 1,2,4,8; with --quick 1,2).")] = None,
    request_rate: Annotated[str | None, typer.Option(
        help="Comma-separated request rates per second: open-loop mode instead of concurrency.")] = None,
    arrival: Annotated[Arrival, typer.Option(help="Request-rate mode: gaps between requests.")] = Arrival.CONSTANT,
    max_inflight: Annotated[int, typer.Option(
        help="Request-rate mode: requests due beyond this many outstanding are skipped and counted.")]
        = DEFAULT_MAX_INFLIGHT,
    wire: Annotated[str, typer.Option(help=(
        "letterbox: S x S frames + LETTERBOX to the detector (the orchestrator's default); raw: IMAGE_RAW, jpeg: "
        "IMAGE_BYTES to the ensemble; both: raw and jpeg runs."))] = "letterbox",
    frame_size: Annotated[str | None, typer.Option(
        help="Resize the footage to WIDTHxHEIGHT first, e.g. 1920x1080 for what a 1080p camera costs.")] = None,
    standin_detector: Annotated[bool, typer.Option(
        "--standin-detector", help="Serve a zero-cost stand-in replaying the detector's recorded outputs: the "
        "ceiling of everything but the detector (embedded server only; labelled in the report).")] = False,
    quick: Annotated[bool, typer.Option(
        "--quick", help="CI smoke run: short windows, levels 1,2. The figures are not for reading.")] = False,
    warmup_s: Annotated[float | None, typer.Option(
        help=f"Warm-up seconds per level (default {_DEFAULT_WINDOWS.warmup_s:g}).")] = None,
    window_s: Annotated[float | None, typer.Option(
        help=f"Seconds per measurement window (default {_DEFAULT_WINDOWS.window_s:g}).")] = None,
    max_windows: Annotated[int | None, typer.Option(
        help=f"Most windows per level (default {_DEFAULT_WINDOWS.max_windows}).")] = None,
    stable_windows: Annotated[int | None, typer.Option(
        help=f"Consecutive windows that must agree (default {_DEFAULT_WINDOWS.stable_windows}).")] = None,
    stability_pct: Annotated[float | None, typer.Option(
        help=f"Their spread limit in % (default {_DEFAULT_WINDOWS.stability_pct:g}).")] = None,
    footage: Annotated[Path, typer.Option(help="Video (or image) the frames come from.", exists=True,
                                          dir_okay=False, show_default="media/vtest.avi")] = DEFAULT_FOOTAGE,
    frames: Annotated[int, typer.Option(help="Distinct frames decoded and cycled through.", min=1)] = DEFAULT_FRAMES,
    timeout_s: Annotated[float, typer.Option(help="Per-request timeout; a timeout counts as a failure.")]
        = DEFAULT_REQUEST_TIMEOUT_S,
    direct: Annotated[bool, typer.Option("--direct/--no-direct", help="Measure the direct baseline.")] = True,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the report here (JSON).")] = None,
    plot_dir: Annotated[Path | None, typer.Option(help="Write PNG plots here (needs matplotlib).")] = None,
    triton_url: TritonUrlOption = None,
    model_repository: ModelRepositoryOption = DEFAULT_MODEL_REPOSITORY,
) -> None:  # fmt: skip
    """Concurrency sweep (or request-rate sweep) against a model on Triton, with the direct baseline beside it."""
    try:
        load = _load(concurrency, request_rate, arrival, max_inflight, quick)
        windows = _windows(quick, warmup_s, window_s, max_windows, stable_windows, stability_pct)
        wires = _wire_formats(wire)
        config = ModelBenchConfig(load, windows, model_name, wires, triton_url, model_repository, footage, frames,
                                  timeout_s, direct, _frame_size(frame_size), standin_detector)  # fmt: skip
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    report = _run(config)
    typer.echo(render_report(report))
    _write_outputs(report, json_path, plot_dir)
    _fail_on_empty_levels(report)


@app.command("pipeline")
def pipeline(
    streams: Annotated[int, typer.Option(min=1, help="Simulated live cameras.")] = 1,
    fps: Annotated[float, typer.Option(min=0.1, help="Frames per second of each camera.")] = 10.0,
    duration_s: Annotated[float, typer.Option(min=0.5, help="Seconds of footage per camera.")] = 30.0,
    footage: Annotated[Path, typer.Option(help="Video each camera replays (looped).", exists=True, dir_okay=False,
                                          show_default="media/vtest.avi")] = DEFAULT_FOOTAGE,
    quick: Annotated[bool, typer.Option("--quick", help="CI smoke run: 3 s, short direct windows.")] = False,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the report here (JSON).")] = None,
    triton_url: TritonUrlOption = None,
    model_repository: ModelRepositoryOption = DEFAULT_MODEL_REPOSITORY,
) -> None:  # fmt: skip
    """N simulated live streams at F fps through the full orchestrator, with the direct baseline."""
    config = PipelineBenchConfig(
        streams, fps, 3.0 if quick else duration_s, footage, triton_url, model_repository,
        QUICK_DIRECT_WINDOWS if quick else DIRECT_WINDOWS,
    )  # fmt: skip
    try:
        report = asyncio.run(run_pipeline_bench(config, lambda message: typer.echo(message, err=True)))
    except TritonError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    validate_report(report)
    typer.echo(render_report(report))
    _write_outputs(report, json_path, None)


@app.command("compare")
def compare(
    a: Annotated[Path, typer.Argument(help="Report A (the reference).", exists=True, dir_okay=False)],
    b: Annotated[Path, typer.Argument(help="Report B.", exists=True, dir_okay=False)],
) -> None:
    """Print two reports' matching levels side by side with the change from A to B."""
    for line in compare_reports(_read_report(a), _read_report(b)):
        typer.echo(line)


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema that every report validates against."""
    typer.echo(json.dumps(report_schema(), indent=2))


def _run(config: ModelBenchConfig) -> dict[str, Any]:
    try:
        result = asyncio.run(run_model_bench(config, lambda message: typer.echo(message, err=True)))
    except (TritonError, FootageError, PayloadError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    report = model_report(result)
    validate_report(report)  # a report that breaks its own schema is a bug: fail loudly, here
    return report


def _load(concurrency: str | None, rate: str | None, arrival: Arrival, max_inflight: int, quick: bool) -> LoadSettings:
    if concurrency is not None and rate is not None:
        raise ValueError("give --concurrency or --request-rate, not both")
    if rate is not None:
        return LoadSettings(LoadMode.REQUEST_RATE, _numbers(rate), arrival, max_inflight)
    levels = _numbers(concurrency) if concurrency else (QUICK_CONCURRENCY if quick else DEFAULT_CONCURRENCY)
    return LoadSettings(LoadMode.CONCURRENCY, tuple(float(level) for level in levels), arrival, max_inflight)


def _windows(
    quick: bool, warmup_s: float | None, window_s: float | None, max_windows: int | None,
    stable_windows: int | None, stability_pct: float | None,
) -> WindowSettings:  # fmt: skip
    base = QUICK_WINDOWS if quick else _DEFAULT_WINDOWS
    return WindowSettings(
        warmup_s=base.warmup_s if warmup_s is None else warmup_s,
        window_s=base.window_s if window_s is None else window_s,
        max_windows=base.max_windows if max_windows is None else max_windows,
        stable_windows=base.stable_windows if stable_windows is None else stable_windows,
        stability_pct=base.stability_pct if stability_pct is None else stability_pct,
    )


def _wire_formats(wire: str) -> tuple[WireFormat, ...]:
    if wire not in _WIRES:
        raise ValueError(f"--wire must be one of {', '.join(_WIRES)}, got {wire!r}")
    return _WIRES[wire]


def _frame_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0):
        raise ValueError(f"--frame-size must be WIDTHxHEIGHT, e.g. 1920x1080, got {text!r}")
    return int(width), int(height)


def _numbers(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"expected comma-separated numbers, got {text!r}") from None


def _write_outputs(report: dict[str, Any], json_path: Path | None, plot_dir: Path | None) -> None:
    if json_path is not None:
        json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        typer.echo(f"report written to {json_path}")
    if plot_dir is not None:
        try:
            for path in write_plots(report, plot_dir):
                typer.echo(f"plot written to {path}")
        except PlotsUnavailableError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=1) from exc


def _fail_on_empty_levels(report: dict[str, Any]) -> None:
    empty = [level for run in report["model"]["runs"] for level in run["levels"] if level["totals"]["completed"] == 0]
    if empty:
        errors = {level["totals"]["first_error"] for level in empty}
        typer.echo(f"error: {len(empty)} level(s) completed no request: {'; '.join(map(str, errors))}", err=True)
        raise typer.Exit(code=1)


def _read_report(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        validate_report(report)
    except (json.JSONDecodeError, ReportInvalidError) as exc:
        typer.echo(f"error: {path.name} is not a valid pitchside bench report: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    return dict(report)
