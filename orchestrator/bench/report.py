"""The benchmark report as JSON-ready data, shaped by ``report.schema.json``.

Layout: an envelope (schema id, machine, versions) holding one section per mode: ``model`` (``bench model``)
and ``pipeline`` (``bench pipeline``, built in pipeline_bench.py). The functions that turn a measurement into a block
(``latency_block``, ``direct_block``, ``ratio_vs_direct``) are shared so every section reads the same.
"""

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

import numpy as np

from orchestrator.bench.direct import BACKEND
from orchestrator.bench.latency import LatencySummary, cdf_points
from orchestrator.bench.levels import DirectLevel, ServerLevel, WindowsOutcome
from orchestrator.bench.machine import package_versions
from orchestrator.bench.model_bench import LevelResult, ModelBenchResult, WireRun
from orchestrator.bench.server_stats import breakdown
from orchestrator.bench.settings import LoadMode
from orchestrator.bench.windows import Window

SCHEMA_ID: Final = "pitchside-bench-report"
SCHEMA_VERSION: Final = 1
THROUGHPUT_RATIO_TARGET: Final = 0.90
"""At saturation, throughput through pitchside at least this share of the direct baseline's."""
STANDIN_DESCRIPTION: Final = (
    "stand-in replaying the real detector's recorded outputs, computing nothing: every figure is the ceiling of "
    "everything except the detector"
)
ADDED_LATENCY_TARGET_MS: Final = 3.0
"""p50 through pitchside minus direct p50 at batch 1, at most this."""

Json = dict[str, Any]


def envelope(created_at: dt.datetime, machine: Json, versions: Mapping[str, str | None]) -> Json:
    """The top of every report; add ``model`` and/or ``pipeline`` sections to it."""
    return {
        "schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "created_at": created_at.isoformat(timespec="seconds"),
        "machine": machine,
        "versions": dict(versions),
    }


def model_report(result: ModelBenchResult) -> Json:
    report = envelope(
        result.started_at,
        {**result.machine, "load_average_end": result.load_average_end},
        {**package_versions(), "triton_server": result.server_version},
    )
    report["model"] = model_section(result)
    return report


def model_section(result: ModelBenchResult) -> Json:
    return {
        "configuration": _configuration(result),
        "target": {
            "model": result.target.model,
            "ensemble": result.target.is_ensemble,
            "max_batch_size": result.target.max_batch_size,
            "composing_models": list(result.target.composing),
            "stages": [stage.value for stage in result.target.stages],
        },
        "detector": {
            "standin": result.standin,
            "description": STANDIN_DESCRIPTION if result.standin else "the served detector",
            "bytes_in_per_frame": result.detector_bytes.into,
            "bytes_out_per_frame": result.detector_bytes.out,
        },
        "runs": [_run(result, run) for run in result.runs],
    }


def latency_block(outcome: WindowsOutcome, percentile: int | None = None) -> Json:
    """Throughput, latency distribution and CPU of one set of reported windows; with ``percentile`` (perf_analyzer's
    ``--percentile``) that percentile of the latency too."""
    window = outcome.reported
    summary = LatencySummary.of(window.latencies_ns)
    extra = (
        {}
        if percentile is None or summary is None
        else {"percentile_ms": {"percentile": percentile, "value_ms": window.latency_ns(percentile) / 1e6}}
    )
    return {
        **extra,
        "throughput_fps": window.throughput,
        "latency_ms": None if summary is None else summary.to_dict(),
        "cdf_ms": cdf_points(window.latencies_ns),
        "completed": int(window.latencies_ns.size),
        "failed": window.failures,
        "duration_s": window.duration_s,
        "windows_measured": outcome.measured,
        "stable": outcome.stable,
        "cpu": outcome.cpu.to_dict(),
        "windows": [window_figures(w) for w in outcome.windows],
    }


def window_figures(window: Window) -> Json:
    """One measurement window's own figures: their spread across windows is the run's noise."""
    summary = LatencySummary.of(window.latencies_ns)
    return {
        "throughput_fps": window.throughput,
        "mean_ms": None if summary is None else summary.mean_ms,
        "p50_ms": None if summary is None else summary.p50_ms,
        "p99_ms": None if summary is None else summary.p99_ms,
    }


def direct_block(level: DirectLevel) -> Json:
    return {
        "backend": BACKEND,
        "batch_size": level.batch_size,
        **latency_block(level.outcome),
        "stage_ms_per_batch": {stage.value: ms for stage, ms in level.stage_ms_per_batch.items()},
    }


def ratio_vs_direct(through: Json, direct: Json | None, closed_loop: bool = True) -> Json | None:
    """Through pitchside / direct, measured side by side: throughput (higher is better, 1 = no loss)
    and latency (lower is better, 1 = nothing added). None without a baseline or a completed request.

    Under an offered rate (open loop: request-rate mode, live streams) throughput is the rate, not a
    capacity, so its ratio is None there.
    """
    if direct is None or through["latency_ms"] is None or direct["latency_ms"] is None:
        return None
    ours, theirs = through["latency_ms"], direct["latency_ms"]
    capacity = _ratio(through["throughput_fps"], direct["throughput_fps"]) if closed_loop else None
    return {
        "throughput": capacity,
        "mean": _ratio(ours["mean_ms"], theirs["mean_ms"]),
        "p50": _ratio(ours["p50_ms"], theirs["p50_ms"]),
        "p99": _ratio(ours["p99_ms"], theirs["p99_ms"]),
    }


def _configuration(result: ModelBenchResult) -> Json:
    config, footage, direct = result.config, result.footage, result.direct
    height, width, _ = footage.frame_shape
    return {
        "model": config.target_model,
        "server": "external" if config.triton_url else "embedded",
        "mode": config.load.mode.value,
        "levels": list(config.load.levels),
        "arrival": config.load.arrival.value,
        "max_inflight": config.load.max_inflight,
        "wire_formats": [wire.value for wire in config.wire_formats],
        "windows": {
            "warmup_s": config.windows.warmup_s,
            "window_s": config.windows.window_s,
            "max_windows": config.windows.max_windows,
            "stable_windows": config.windows.stable_windows,
            "stability_pct": config.windows.stability_pct,
            "latency_metric": config.windows.latency_metric,
        },
        "footage": {
            "name": footage.name,
            "frames": len(footage),
            "width": width,
            "height": height,
            "mean_jpeg_bytes": footage.mean_jpeg_bytes(),
        },
        "request_timeout_s": config.request_timeout_s,
        "direct": {
            "backend": BACKEND,
            "unavailable": direct.unavailable,
            **({} if direct.settings is None else direct.settings.describe()),
        },
    }


def _run(result: ModelBenchResult, run: WireRun) -> Json:
    levels = [_level(result, level) for level in run.levels]
    return {
        "wire_format": run.wire.value,
        "inputs": list(run.payloads.input_names),
        "bytes_per_request": run.payloads.bytes_per_request,
        "levels": levels,
        "summary": _summary(result.config.load.mode, levels, result.standin),
    }


def _level(result: ModelBenchResult, level: LevelResult) -> Json:
    client = latency_block(level.server.outcome, result.config.windows.percentile)
    direct = None if level.direct is None else direct_block(level.direct)
    key = "concurrency" if result.config.load.mode is LoadMode.CONCURRENCY else "request_rate"
    return {
        "concurrency": None,
        "request_rate": None,
        key: _level_value(key, level.server.level),
        "client": client,
        "totals": _totals(level.server),
        "server": _server(result.target.model, level.server, client),
        "direct": direct,
        "ratio_vs_direct": ratio_vs_direct(client, direct, closed_loop=key == "concurrency"),
    }


def _level_value(key: str, value: float) -> float | int:
    return int(value) if key == "concurrency" else float(value)


def _totals(server: ServerLevel) -> Json:
    return {
        "sent": server.sent,
        "completed": server.completed,
        "failed": server.failed,
        "skipped": server.skipped,
        "first_error": server.first_error,
    }


def _server(model: str, server: ServerLevel, client: Json) -> Json:
    windows = {name: breakdown(counters) for name, counters in server.server.items()}
    request_ms = windows.get(model, {}).get("request_ms")
    mean_ms = None if client["latency_ms"] is None else client["latency_ms"]["mean_ms"]
    return {
        "models": windows,
        "level_totals": {name: breakdown(counters) for name, counters in server.totals.items()},
        "client_overhead_ms": None if request_ms is None or mean_ms is None else mean_ms - request_ms,
    }


def _summary(mode: LoadMode, levels: list[Json], standin: bool = False) -> Json:
    """Saturation and added latency; with the stand-in, the throughput target (about the real detector) is not
    judged, and the added latency is Triton's own overhead on the path."""
    best = max(levels, key=lambda lv: lv["client"]["throughput_fps"])
    directs = [lv["direct"] for lv in levels if lv["direct"] is not None]
    best_direct = max((d["throughput_fps"] for d in directs), default=None)
    closed = mode is LoadMode.CONCURRENCY
    ratio = None if best_direct is None or not closed else _ratio(best["client"]["throughput_fps"], best_direct)
    added = _added_latency(mode, levels)
    return {
        "saturation": {
            "concurrency": best["concurrency"],
            "request_rate": best["request_rate"],
            "throughput_fps": best["client"]["throughput_fps"],
            "direct_throughput_fps": best_direct,
            "ratio_vs_direct": ratio,
        },
        "added_latency_ms": added,
        "targets": {
            "throughput_ratio_min": THROUGHPUT_RATIO_TARGET,
            "throughput_ratio_met": None if ratio is None or standin else ratio >= THROUGHPUT_RATIO_TARGET,
            "added_latency_ms_max": ADDED_LATENCY_TARGET_MS,
            "added_latency_met": None if added is None else added <= ADDED_LATENCY_TARGET_MS,
        },
    }


def _added_latency(mode: LoadMode, levels: list[Json]) -> float | None:
    """p50 through Triton minus direct p50, at concurrency 1 (or the lowest request rate) against batch 1."""
    if mode is LoadMode.CONCURRENCY:
        candidates = [lv for lv in levels if lv["concurrency"] == 1]
    else:
        candidates = sorted(levels, key=lambda lv: lv["request_rate"])[:1]
    for level in candidates:
        direct, client = level["direct"], level["client"]["latency_ms"]
        if direct is not None and direct["batch_size"] == 1 and client and direct["latency_ms"]:
            return float(client["p50_ms"] - direct["latency_ms"]["p50_ms"])
    return None


def _ratio(ours: float, theirs: float) -> float | None:
    return float(ours / theirs) if theirs > 0 and np.isfinite(ours) else None
