"""The report as plain-text tables, rendered from the JSON data so a saved report prints the same."""

from typing import Any

from orchestrator.bench.pipeline_table import pipeline_lines
from orchestrator.bench.text_table import fmt, render_rows

Json = dict[str, Any]

BUSY_LOAD_PER_CPU = 0.5
"""A 1-minute load above this per CPU before the run starts means someone else is using the cores."""

_CLIENT_HEADER = (
    "level",
    "fps",
    "p50",
    "p90",
    "p95",
    "p99",
    "| direct b",
    "fps",
    "p50",
    "p99",
    "| fps ratio",
    "p50 ratio",
    "stable",
)
_SERVER_HEADER = (
    "level",
    "model",
    "requests",
    "avg batch",
    "queue",
    "c.input",
    "c.infer",
    "c.output",
    "request",
    "batches",
)


def render_report(report: Json) -> str:
    lines = [*_context(report)]
    if "model" in report:
        lines += _model_lines(report["model"])
    if "pipeline" in report:
        lines += pipeline_lines(report["pipeline"])
    return "\n".join(lines)


def level_label(level: Json) -> str:
    if level.get("concurrency") is not None:
        return f"c={level['concurrency']}"
    return f"{level['request_rate']:g}/s"


def _context(report: Json) -> list[str]:
    machine, versions = report["machine"], report["versions"]
    load = machine.get("load_average")
    load_end = machine.get("load_average_end")
    return [
        f"machine: {machine['cpu_model']}, {machine['logical_cpus']} logical CPUs, Python {machine['python']}",
        f"load average: {_load(load)} at start, {_load(load_end)} at end (other work on the machine counts here)",
        *_busy_warning(load, int(machine["logical_cpus"])),
        f"Triton {versions.get('triton_server')}, onnxruntime {versions.get('onnxruntime')}, "
        f"numpy {versions.get('numpy')}, pitchside {versions.get('pitchside')}",
    ]


def _busy_warning(load: list[float] | None, cpus: int) -> list[str]:
    """The 1-minute load before anything of this run started: other work competing for the same cores."""
    if not load or load[0] <= BUSY_LOAD_PER_CPU * cpus:
        return []
    return [
        f"WARNING: the machine was already busy before the run (load {load[0]:.1f} on {cpus} CPUs): "
        "absolute figures are unreliable and even side-by-side ratios are noisy; re-run when it is quiet"
    ]


def _model_lines(section: Json) -> list[str]:
    config, target = section["configuration"], section["target"]
    windows, direct = config["windows"], config["direct"]
    lines = [
        f"model: {target['model']}"
        + (f" (ensemble: {' -> '.join(target['composing_models'])})" if target["ensemble"] else "")
        + f" on the {config['server']} server",
        f"windows: warm-up {windows['warmup_s']:g} s, {windows['window_s']:g} s windows, up to "
        f"{windows['max_windows']}, reporting the last {windows['stable_windows']} (stable when max/min of their "
        f"fps and of their {windows.get('latency_metric', 'p50')} latency are each within "
        f"{windows['stability_pct']:g} %, perf_analyzer's rule)",
        "direct baseline: "
        + (
            direct["unavailable"]
            or f"{direct['backend']}, {direct.get('model_file')}, intra_op_threads "
            f"{direct.get('intra_op_threads')} (0 = all cores), same frames and batch"
        ),
        *_detector_lines(section["detector"], config["footage"]),
    ]
    for run in section["runs"]:
        lines += ["", *_run_lines(run)]
    return lines


def _detector_lines(detector: Json, footage: Json) -> list[str]:
    lines = [
        f"detector: {detector['description']}",
        (
            f"bytes per frame: {footage['width']}x{footage['height']} source; detector in "
            f"{detector['bytes_in_per_frame'] / 1e6:.3f} MB, out {detector['bytes_out_per_frame'] / 1e3:.1f} KB"
        ),
    ]
    standin = "*** STAND-IN DETECTOR: no figure below includes detection ***"
    return [*lines, standin] if detector["standin"] else lines


def _run_lines(run: Json) -> list[str]:
    title = (
        f"wire {run['wire_format']} ({', '.join(run['inputs'])}, "
        f"{run['bytes_per_request'] / 1e6:.2f} MB per request); latency in ms, per frame"
    )
    client = render_rows(*_client_table(run["levels"]))
    server = render_rows(_SERVER_HEADER, [row for level in run["levels"] for row in _server_rows(level)])
    return [
        title,
        *client,
        "",
        "server side (Triton statistics, mean ms per request):",
        *server,
        "",
        *_summary_lines(run["summary"]),
    ]


def _client_table(levels: list[Json]) -> tuple[tuple[str, ...], list[list[str]]]:
    """The client table; with --percentile N, a pN column last (perf_analyzer reports the percentile it judged)."""
    rows = [_client_row(level) for level in levels]
    chosen = [level["client"].get("percentile_ms") for level in levels]
    named = next((c for c in chosen if c is not None), None)
    if named is None:
        return _CLIENT_HEADER, rows
    values = [fmt(None if c is None else c["value_ms"]) for c in chosen]
    return (*_CLIENT_HEADER, f"p{named['percentile']}"), [[*row, v] for row, v in zip(rows, values, strict=True)]


def _client_row(level: Json) -> list[str]:
    client, direct, ratio = level["client"], level["direct"] or {}, level["ratio_vs_direct"] or {}
    lat, dlat = client["latency_ms"] or {}, direct.get("latency_ms") or {}
    return [
        level_label(level),
        fmt(client["throughput_fps"]),
        fmt(lat.get("p50_ms")),
        fmt(lat.get("p90_ms")),
        fmt(lat.get("p95_ms")),
        fmt(lat.get("p99_ms")),
        fmt(direct.get("batch_size"), "d"),
        fmt(direct.get("throughput_fps")),
        fmt(dlat.get("p50_ms")),
        fmt(dlat.get("p99_ms")),
        fmt(ratio.get("throughput"), ".2f"),
        fmt(ratio.get("p50"), ".2f"),
        _stability(client, direct),
    ]


def _server_rows(level: Json) -> list[list[str]]:
    return [
        [
            level_label(level),
            name,
            fmt(m["requests"], "d"),
            fmt(m["avg_batch_size"], ".2f"),
            fmt(m["queue_ms"]),
            fmt(m["compute_input_ms"]),
            fmt(m["compute_infer_ms"]),
            fmt(m["compute_output_ms"]),
            fmt(m["request_ms"]),
            _histogram(m["batch_histogram"]),
        ]
        for name, m in level["server"]["models"].items()
    ]


def _summary_lines(summary: Json) -> list[str]:
    sat, targets = summary["saturation"], summary["targets"]
    at = f"c={sat['concurrency']}" if sat["concurrency"] is not None else f"{sat['request_rate']:g}/s"
    return [
        f"saturation: {fmt(sat['throughput_fps'])} fps at {at}; direct best {fmt(sat['direct_throughput_fps'])} "
        f"fps; ratio {fmt(sat['ratio_vs_direct'], '.2f')} (target >= {targets['throughput_ratio_min']:.2f}: "
        f"{_met(targets['throughput_ratio_met'])})",
        f"added latency at batch 1 (p50 through Triton - direct p50): {fmt(summary['added_latency_ms'], '+.1f')} ms "
        f"(target <= {targets['added_latency_ms_max']:g} ms: {_met(targets['added_latency_met'])})",
    ]


def _stability(client: Json, direct: Json) -> str:
    marks = "yes" if client["stable"] else "no"
    return marks if not direct else f"{marks}/{'yes' if direct['stable'] else 'no'}"


def _histogram(histogram: dict[str, int]) -> str:
    return " ".join(f"{size}x{count}" for size, count in histogram.items()) or "-"


def _met(flag: bool | None) -> str:
    return "n/a" if flag is None else ("met" if flag else "MISSED")


def _load(load: list[float] | None) -> str:
    return "-" if not load else "/".join(f"{v:.2f}" for v in load)
