"""Two reports side by side: the same levels matched, each figure with its change from A to B.

On shared, noisy machines the absolute numbers move between runs; the ratios to the direct baseline,
measured side by side inside each run, are what should be compared first. Each change is set against the
noise the reports themselves measured (the spread of their reported windows) and marked when it exceeds it.
"""

from collections.abc import Callable, Iterator
from typing import Any, Final

from orchestrator.bench.table import level_label
from orchestrator.bench.text_table import fmt, render_rows
from orchestrator.bench.windows import spread_pct

Json = dict[str, Any]

_METRICS: Final[tuple[tuple[str, Callable[[Json], float | None]], ...]] = (
    ("fps", lambda lv: lv["client"]["throughput_fps"]),
    ("p50", lambda lv: (lv["client"]["latency_ms"] or {}).get("p50_ms")),
    ("p99", lambda lv: (lv["client"]["latency_ms"] or {}).get("p99_ms")),
    ("fps ratio", lambda lv: (lv["ratio_vs_direct"] or {}).get("throughput")),
    ("p50 ratio", lambda lv: (lv["ratio_vs_direct"] or {}).get("p50")),
)
_NOISE_SOURCES: Final = {
    "fps": (("client", "throughput_fps"),),
    "p50": (("client", "p50_ms"),),
    "p99": (("client", "p99_ms"),),
    "fps ratio": (("client", "throughput_fps"), ("direct", "throughput_fps")),
    "p50 ratio": (("client", "p50_ms"), ("direct", "p50_ms")),
}
"""Which windows' spread a figure inherits: a ratio carries the noise of both its sides."""
BEYOND_NOISE: Final = "*"
NOISE_LEGEND: Final = (
    f"{BEYOND_NOISE} change beyond the run-to-run noise; noise = the larger of A's and B's spread across their "
    "reported windows (max/min - 1; a ratio adds both sides'); '-' where a report has one window or none"
)
_HEADER: Final = ("wire", "level", "figure", "A", "B", "change", "noise", "")
_CONTEXT_KEYS: Final = (
    ("machine", "cpu_model"),
    ("machine", "logical_cpus"),
    ("versions", "triton_server"),
    ("versions", "onnxruntime"),
    ("versions", "pitchside"),
)


_PIPELINE_HEADER: Final = ("figure", "A", "B", "change")
PIPELINE_NOISE_NOTE: Final = (
    "pipeline figures come from one run each: no measured noise to weigh these changes against (repeat a run to "
    "see how far it moves)"
)


def compare_reports(a: Json, b: Json) -> list[str]:
    """Lines: what differs in the setup, then one row per matched level (or pipeline figure)."""
    lines = [f"A: {a['created_at']}   B: {b['created_at']}", *context_differences(a, b)]
    shared = [section for section in ("model", "pipeline") if section in a and section in b]
    if not shared:
        return [*lines, "no model or pipeline section in both reports: nothing to compare"]
    if "model" in shared:
        lines += configuration_differences(a["model"]["configuration"], b["model"]["configuration"])
        rows = list(comparison_rows(a["model"], b["model"]))
        lines += [*render_rows(_HEADER, rows), NOISE_LEGEND] if rows else ["no level appears in both reports"]
    if "pipeline" in shared:
        lines += pipeline_comparison(a["pipeline"], b["pipeline"])
    return lines


def pipeline_comparison(a: Json, b: Json) -> list[str]:
    """Configuration differences, then per-stage latency, throughput, drops and the direct comparison."""
    config_a, config_b = a["configuration"], b["configuration"]
    lines = [
        f"differs: pipeline.configuration.{key}: {config_a[key]} -> {config_b[key]}"
        for key in config_a
        if config_a.get(key) != config_b.get(key)
    ]
    rows = []
    for stage in a["latency_ms"]:
        if stage in b["latency_ms"]:
            for pct in ("p50_ms", "p99_ms"):
                first, second = a["latency_ms"][stage][pct], b["latency_ms"][stage][pct]
                rows.append([f"{stage} {pct[:-3]} ms", fmt(first), fmt(second), _change(first, second)])
    for name, read in _PIPELINE_FIGURES:
        first, second = read(a), read(b)
        rows.append([name, fmt(first, ".2f"), fmt(second, ".2f"), _change(first, second)])
    return [*lines, "pipeline:", *render_rows(_PIPELINE_HEADER, rows), PIPELINE_NOISE_NOTE]


def _total_fps(section: Json) -> float:
    return float(sum(s["achieved_fps"] for s in section["streams"]))


def _dropped(section: Json) -> float:
    return float(sum(sum(s["dropped"].values()) for s in section["streams"]))


_PIPELINE_FIGURES: Final[tuple[tuple[str, Callable[[Json], float | None]], ...]] = (
    ("events/s, all streams", _total_fps),
    ("frames dropped", _dropped),
    ("added latency ms", lambda p: p["added_latency_ms"]),
    ("p50 ratio vs direct", lambda p: (p["ratio_vs_direct"] or {}).get("p50")),
)


def context_differences(a: Json, b: Json) -> list[str]:
    return [
        f"differs: {group}.{key}: {a[group].get(key)} -> {b[group].get(key)}"
        for group, key in _CONTEXT_KEYS
        if a[group].get(key) != b[group].get(key)
    ]


def configuration_differences(a: Json, b: Json) -> list[str]:
    keys = ("model", "server", "mode", "arrival", "windows", "footage", "direct")
    return [f"differs: configuration.{key}: {a.get(key)} -> {b.get(key)}" for key in keys if a.get(key) != b.get(key)]


def comparison_rows(a: Json, b: Json) -> Iterator[list[str]]:
    """Per matched level and figure: A, B, the change, the noise, and a mark where the change exceeds it."""
    levels_b = _levels(b)
    for key, level_a in _levels(a).items():
        level_b = levels_b.get(key)
        if level_b is None:
            continue
        for name, read in _METRICS:
            first, second = read(level_a), read(level_b)
            noise = max_noise(noise_pct(level_a, name), noise_pct(level_b, name))
            change = _change_pct(first, second)
            beyond = change is not None and noise is not None and abs(change) > noise
            yield [
                key[0],
                level_label(level_a),
                name,
                fmt(first, ".2f"),
                fmt(second, ".2f"),
                _change(first, second),
                "-" if noise is None else f"±{noise:.1f} %",
                BEYOND_NOISE if beyond else "",
            ]


def noise_pct(level: Json, figure: str) -> float | None:
    """The run-to-run noise of ``figure`` in one level: its spread across the reported windows, in %
    (summed over both sides for a ratio); None when a side has fewer than two windows."""
    total = 0.0
    for side, key in _NOISE_SOURCES[figure]:
        values = [w[key] for w in (level.get(side) or {}).get("windows", []) if w.get(key) is not None]
        if len(values) < 2:
            return None
        total += spread_pct(values)
    return total


def max_noise(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else max(a, b)


def _levels(section: Json) -> dict[tuple[str, str], Json]:
    return {(run["wire_format"], level_label(level)): level for run in section["runs"] for level in run["levels"]}


def _change(a: float | None, b: float | None) -> str:
    change = _change_pct(a, b)
    return "-" if change is None else f"{change:+.1f} %"


def _change_pct(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or a == 0 else (b - a) / a * 100
