"""``pitchside bench``: measure latency and throughput the way an engineer can trust and compare.

``bench model`` sweeps concurrency (or request rate) against a model or ensemble and measures the
direct baseline beside every level, taking perf_analyzer's flags where the two overlap; ``bench pipeline`` runs
simulated live cameras through the whole orchestrator; ``bench compare`` sets two saved reports side by side
against their measured noise; ``bench schema`` prints the JSON Schema every report validates against. Errors
are one line on stderr: exit 2 for a bad argument (before any server starts), 1 for a failure.
"""

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from orchestrator.bench.compare import compare_reports
from orchestrator.bench.footage import FootageError
from orchestrator.bench.input_data import perf_analyzer_commands
from orchestrator.bench.level_ranges import parse_levels
from orchestrator.bench.model_bench import ModelBenchResult, run_model_bench
from orchestrator.bench.outputs import Outputs
from orchestrator.bench.payloads import PayloadError
from orchestrator.bench.pipeline_bench import (
    DIRECT_WINDOWS,
    QUICK_DIRECT_WINDOWS,
    PipelineBenchConfig,
    run_pipeline_bench,
)
from orchestrator.bench.plots import PlotsUnavailableError
from orchestrator.bench.progress import open_progress
from orchestrator.bench.report import model_report
from orchestrator.bench.report_schema import ReportInvalidError, report_schema, validate_report
from orchestrator.bench.settings import (
    DEFAULT_CONCURRENCY,
    DEFAULT_FOOTAGE,
    DEFAULT_FRAMES,
    DEFAULT_MAX_INFLIGHT,
    QUICK_CONCURRENCY,
    QUICK_WINDOWS,
    Arrival,
    LoadMode,
    LoadSettings,
    ModelBenchConfig,
    WindowSettings,
)
from orchestrator.bench.table import render_report
from orchestrator.cli.options import ModelRepositoryOption
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY
from orchestrator.triton.client import DEFAULT_REQUEST_TIMEOUT_S
from orchestrator.triton.errors import EmbeddedTritonError, TritonError, TritonUnavailableError
from orchestrator.triton.wire import WireFormat

app = typer.Typer(
    help="Benchmark latency and throughput (perf_analyzer-style, with a direct baseline).", no_args_is_help=True
)

_WIRES = {
    "letterbox": (WireFormat.LETTERBOX,),
    "raw": (WireFormat.RAW,),
    "jpeg": (WireFormat.JPEG,),
    "both": (WireFormat.RAW, WireFormat.JPEG),
}
_DEFAULT_WINDOWS = WindowSettings()
BenchTritonUrlOption = Annotated[
    str | None,
    typer.Option(
        "--triton-url",
        "-u",
        envvar="PITCHSIDE_TRITON_URL",
        help=(
            "gRPC host:port of an existing Triton server (perf_analyzer's -u); without it an embedded server is "
            "started."
        ),
    ),
]


@app.command("model")
def model(
    model_name: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help=(
                "Model or ensemble to benchmark (default: the wire's own: detector for letterbox, detection otherwise)."
            ),
        ),
    ] = None,
    concurrency: Annotated[
        str | None,
        typer.Option(
            "--concurrency",
            "--concurrency-range",
            help=(
                "Concurrency levels: first:last:step (perf_analyzer's --concurrency-range, e.g. 1:8:1) or a list, e.g. "
                "1,2,4,8 (default 1,2,4,8; with --quick 1,2)."
            ),
        ),
    ] = None,
    request_rate: Annotated[
        str | None,
        typer.Option(
            "--request-rate",
            "--request-rate-range",
            help=("Request rates per second, first:last:step or a list: open-loop mode instead of concurrency."),
        ),
    ] = None,
    arrival: Annotated[Arrival, typer.Option(help="Request-rate mode: gaps between requests.")] = Arrival.CONSTANT,
    max_inflight: Annotated[
        int, typer.Option(help="Request-rate mode: requests due beyond this many outstanding are skipped and counted.")
    ] = DEFAULT_MAX_INFLIGHT,
    wire: Annotated[
        str,
        typer.Option(
            help=(
                "letterbox: S x S frames + LETTERBOX to the detector (the orchestrator's default); raw: IMAGE_RAW, "
                "jpeg: IMAGE_BYTES to the ensemble; both: raw and jpeg runs."
            )
        ),
    ] = "letterbox",
    frame_size: Annotated[
        str | None,
        typer.Option(help="Resize the footage to WIDTHxHEIGHT first, e.g. 1920x1080 for what a 1080p camera costs."),
    ] = None,
    standin_detector: Annotated[
        bool,
        typer.Option(
            "--standin-detector",
            help="Serve a zero-cost stand-in replaying the detector's recorded outputs: the "
            "ceiling of everything but the detector (embedded server only; labelled in the report).",
        ),
    ] = False,
    quick: Annotated[
        bool, typer.Option("--quick", help="CI smoke run: short windows, levels 1,2. The figures are not for reading.")
    ] = False,
    warmup_s: Annotated[
        float | None, typer.Option(help=f"Warm-up seconds per level (default {_DEFAULT_WINDOWS.warmup_s:g}).")
    ] = None,
    measurement_interval: Annotated[
        float | None,
        typer.Option(
            "--measurement-interval",
            "-p",
            help=(
                "Milliseconds per measurement window, as perf_analyzer's -p "
                f"(default {_DEFAULT_WINDOWS.window_s * 1e3:g})."
            ),
        ),
    ] = None,
    window_s: Annotated[float | None, typer.Option(help="The same window in seconds (give one of the two).")] = None,
    max_windows: Annotated[
        int | None,
        typer.Option(
            "--max-trials",
            "-r",
            "--max-windows",
            help=(f"Most windows per level, as perf_analyzer's --max-trials (default {_DEFAULT_WINDOWS.max_windows})."),
        ),
    ] = None,
    stable_windows: Annotated[
        int | None,
        typer.Option(help=f"Consecutive windows that must agree (default {_DEFAULT_WINDOWS.stable_windows})."),
    ] = None,
    stability_pct: Annotated[
        float | None,
        typer.Option(
            "--stability-percentage",
            "-s",
            "--stability-pct",
            help=(
                "perf_analyzer's rule: max/min of those windows' throughput, and of their latency, each within this % "
                f"(default {_DEFAULT_WINDOWS.stability_pct:g})."
            ),
        ),
    ] = None,
    percentile: Annotated[
        int | None,
        typer.Option(
            help=(
                "Judge stability on this latency percentile instead of the mean, as perf_analyzer's --percentile; "
                "the table and CSV always carry p50/p90/p95/p99."
            )
        ),
    ] = None,
    footage: Annotated[
        Path, typer.Option(help="Video (or image) the frames come from.", show_default="media/vtest.avi")
    ] = DEFAULT_FOOTAGE,
    frames: Annotated[int, typer.Option(help="Distinct frames decoded and cycled through.", min=1)] = DEFAULT_FRAMES,
    timeout_s: Annotated[
        float, typer.Option(help="Per-request timeout; a timeout counts as a failure.")
    ] = DEFAULT_REQUEST_TIMEOUT_S,
    direct: Annotated[bool, typer.Option("--direct/--no-direct", help="Measure the direct baseline.")] = True,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the report here (JSON).")] = None,
    csv_path: Annotated[
        Path | None,
        typer.Option(
            "-f",
            "--csv",
            help=("Write perf_analyzer's -f CSV here (its header, microseconds); with --wire both, one file per wire."),
        ),
    ] = None,
    input_data_path: Annotated[
        Path | None,
        typer.Option(
            "--export-input-data",
            help=("Write the frames as perf_analyzer --input-data JSON, to cross-check with perf_analyzer itself."),
        ),
    ] = None,
    plot_dir: Annotated[Path | None, typer.Option(help="Write PNG plots here (needs matplotlib).")] = None,
    triton_url: BenchTritonUrlOption = None,
    protocol: Annotated[
        str,
        typer.Option(
            "-i", "--protocol", help="grpc: the only protocol pitchside speaks (accepted for perf_analyzer's -i)."
        ),
    ] = "grpc",
    batch_size: Annotated[
        int,
        typer.Option(
            "-b",
            "--batch-size",
            help="1: one frame per request, as a camera sends them (accepted for perf_analyzer's -b).",
        ),
    ] = 1,
    model_repository: ModelRepositoryOption = DEFAULT_MODEL_REPOSITORY,
) -> None:
    """Concurrency sweep (or request-rate sweep) against a model on Triton, with the direct baseline beside it.

    perf_analyzer's flags work as they do there: -m, -u, --concurrency-range 1:8:1, --request-rate-range,
    -p/--measurement-interval (ms), --percentile, -s/--stability-percentage, -r/--max-trials, -f (CSV).
    """
    outputs = Outputs(json_path, csv_path, input_data_path, plot_dir)
    try:
        _perf_analyzer_only(protocol, batch_size)
        load = _load(concurrency, request_rate, arrival, max_inflight, quick)
        interval_s = _interval_s(measurement_interval, window_s)
        windows = _windows(quick, warmup_s, interval_s, max_windows, stable_windows, stability_pct, percentile)
        wires = _wire_formats(wire)
        _check_footage(footage)
        outputs.check()
        config = ModelBenchConfig(
            load,
            windows,
            model_name,
            wires,
            triton_url,
            model_repository,
            footage,
            frames,
            timeout_s,
            direct,
            _frame_size(frame_size),
            standin_detector,
        )
    except ValueError as exc:
        _fail(str(exc), code=2)
    result, report = _run(config)
    typer.echo(render_report(report))
    _write_outputs(report, outputs, result)
    _fail_on_empty_levels(report)


@app.command("pipeline")
def pipeline(
    streams: Annotated[int, typer.Option(min=1, help="Simulated live cameras.")] = 1,
    fps: Annotated[float, typer.Option(min=0.1, help="Frames per second of each camera.")] = 10.0,
    duration_s: Annotated[float, typer.Option(min=0.5, help="Seconds of footage per camera.")] = 30.0,
    footage: Annotated[
        Path, typer.Option(help="Video each camera replays (looped).", show_default="media/vtest.avi")
    ] = DEFAULT_FOOTAGE,
    quick: Annotated[bool, typer.Option("--quick", help="CI smoke run: 3 s, short direct windows.")] = False,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the report here (JSON).")] = None,
    plot_dir: Annotated[
        Path | None,
        typer.Option(
            help=(
                "Write PNG plots here: latency CDF per stage, frames emitted and dropped over time (needs matplotlib)."
            )
        ),
    ] = None,
    triton_url: BenchTritonUrlOption = None,
    model_repository: ModelRepositoryOption = DEFAULT_MODEL_REPOSITORY,
) -> None:
    """N simulated live streams at F fps through the full orchestrator, with the direct baseline."""
    outputs = Outputs(json_path, None, None, plot_dir)
    try:
        _check_footage(footage)
        outputs.check()
    except ValueError as exc:
        _fail(str(exc), code=2)
    config = PipelineBenchConfig(
        streams,
        fps,
        3.0 if quick else duration_s,
        footage,
        triton_url,
        model_repository,
        QUICK_DIRECT_WINDOWS if quick else DIRECT_WINDOWS,
    )
    try:
        with open_progress() as progress:
            report = asyncio.run(run_pipeline_bench(config, progress))
    except (TritonError, FootageError) as exc:
        _fail(_explain(exc, triton_url))
    validate_report(report)
    typer.echo(render_report(report))
    _write_outputs(report, outputs, None)


@app.command("compare")
def compare(
    a: Annotated[Path, typer.Argument(help="Report A (the reference).")],
    b: Annotated[Path, typer.Argument(help="Report B.")],
) -> None:
    """Print two reports' matching levels side by side: each figure, its change from A to B, the run-to-run noise
    the reports measured, and a mark where the change exceeds that noise."""
    for line in compare_reports(_read_report(a), _read_report(b)):
        typer.echo(line)


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema that every report validates against."""
    typer.echo(json.dumps(report_schema(), indent=2))


def _run(config: ModelBenchConfig) -> tuple[ModelBenchResult, dict[str, Any]]:
    try:
        with open_progress() as progress:
            result = asyncio.run(run_model_bench(config, progress))
    except (TritonError, FootageError, PayloadError) as exc:
        _fail(_explain(exc, config.triton_url))
    report = model_report(result)
    validate_report(report)  # a report that breaks its own schema is a bug: fail loudly, here
    return result, report


def _load(concurrency: str | None, rate: str | None, arrival: Arrival, max_inflight: int, quick: bool) -> LoadSettings:
    if concurrency is not None and rate is not None:
        raise ValueError("give --concurrency(-range) or --request-rate(-range), not both")
    if rate is not None:
        return LoadSettings(LoadMode.REQUEST_RATE, parse_levels(rate, "--request-rate"), arrival, max_inflight)
    if concurrency:
        levels = parse_levels(concurrency, "--concurrency")
    else:
        levels = tuple(float(level) for level in (QUICK_CONCURRENCY if quick else DEFAULT_CONCURRENCY))
    return LoadSettings(LoadMode.CONCURRENCY, levels, arrival, max_inflight)


def _perf_analyzer_only(protocol: str, batch_size: int) -> None:
    """perf_analyzer flags pitchside accepts only at the one value it measures."""
    if protocol.lower() != "grpc":
        raise ValueError(f"-i {protocol}: pitchside speaks gRPC only; use -i grpc and the server's gRPC port (8001)")
    if batch_size != 1:
        raise ValueError(
            f"-b {batch_size}: pitchside sends one frame per request, as a camera does, and Triton's "
            "dynamic batcher forms the batches; raise --concurrency-range to load it harder"
        )


def _interval_s(measurement_interval_ms: float | None, window_s: float | None) -> float | None:
    if measurement_interval_ms is not None and window_s is not None:
        raise ValueError("give --measurement-interval (ms) or --window-s (s), not both")
    return window_s if measurement_interval_ms is None else measurement_interval_ms / 1000


def _windows(
    quick: bool,
    warmup_s: float | None,
    window_s: float | None,
    max_windows: int | None,
    stable_windows: int | None,
    stability_pct: float | None,
    percentile: int | None,
) -> WindowSettings:
    base = QUICK_WINDOWS if quick else _DEFAULT_WINDOWS
    return WindowSettings(
        warmup_s=base.warmup_s if warmup_s is None else warmup_s,
        window_s=base.window_s if window_s is None else window_s,
        max_windows=base.max_windows if max_windows is None else max_windows,
        stable_windows=base.stable_windows if stable_windows is None else stable_windows,
        stability_pct=base.stability_pct if stability_pct is None else stability_pct,
        percentile=percentile,
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


def _check_footage(path: Path) -> None:
    if not path.is_file():
        raise ValueError(f"--footage {path} is not a file: give a video or image, e.g. media/vtest.avi")


def _write_outputs(report: dict[str, Any], outputs: Outputs, result: ModelBenchResult | None) -> None:
    try:
        written = outputs.write(report, result)
    except PlotsUnavailableError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"could not write {exc.filename}: {exc.strerror}; choose a writable path")
    for path in written:
        typer.echo(f"written: {path}")
    if outputs.input_data is not None and result is not None:
        typer.echo("cross-check the first run with perf_analyzer (the same frames and rules):")
        for command in perf_analyzer_commands(report, outputs.input_data):
            typer.echo(f"  {command}")


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=code)


def _explain(exc: Exception, url: str | None) -> str:
    """What went wrong, then how to fix it."""
    if isinstance(exc, TritonUnavailableError) and url:
        return (
            f"Triton at {url} is unreachable or not ready ({exc}); check -u/--triton-url is a running server's "
            "gRPC address (e.g. localhost:8001), or leave it out to start an embedded server"
        )
    if isinstance(exc, FootageError):
        return f"{exc}; give --footage a video or image OpenCV can read"
    if isinstance(exc, PayloadError):
        return f"{exc}; benchmark a model whose inputs have fixed shapes or are named in the detection contract"
    if isinstance(exc, EmbeddedTritonError | TritonUnavailableError):
        return str(exc)
    return f"{exc}; check -m/--model names a model the server has loaded"


def _fail_on_empty_levels(report: dict[str, Any]) -> None:
    empty = [level for run in report["model"]["runs"] for level in run["levels"] if level["totals"]["completed"] == 0]
    if empty:
        errors = {level["totals"]["first_error"] for level in empty}
        _fail(
            f"{len(empty)} level(s) completed no request: {'; '.join(map(str, errors))}; the first error says why "
            "(raise --timeout-s if requests timed out)"
        )


def _read_report(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        validate_report(report)
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror}; give the path of a report written with --json")
    except (json.JSONDecodeError, ReportInvalidError) as exc:
        _fail(f"{path.name} is not a valid pitchside bench report ({exc}); give a file written with --json")
    return dict(report)
