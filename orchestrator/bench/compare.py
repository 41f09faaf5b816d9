"""Two reports side by side: the same levels matched, each figure with its change from A to B.

On shared, noisy machines the absolute numbers move between runs; the ratios to the direct baseline,
measured side by side inside each run, are what should be compared first.
"""

from collections.abc import Callable, Iterator
from typing import Any, Final

from orchestrator.bench.table import fmt, level_label, render_rows

Json = dict[str, Any]

_METRICS: Final[tuple[tuple[str, Callable[[Json], float | None]], ...]] = (
    ("fps", lambda lv: lv["client"]["throughput_fps"]),
    ("p50", lambda lv: (lv["client"]["latency_ms"] or {}).get("p50_ms")),
    ("p99", lambda lv: (lv["client"]["latency_ms"] or {}).get("p99_ms")),
    ("fps ratio", lambda lv: (lv["ratio_vs_direct"] or {}).get("throughput")),
    ("p50 ratio", lambda lv: (lv["ratio_vs_direct"] or {}).get("p50")),
)
_HEADER: Final = ("wire", "level", "figure", "A", "B", "change")
_CONTEXT_KEYS: Final = (("machine", "cpu_model"), ("machine", "logical_cpus"), ("versions", "triton_server"),
                        ("versions", "onnxruntime"), ("versions", "pitchside"))  # fmt: skip


_PIPELINE_HEADER: Final = ("figure", "A", "B", "change")


def compare_reports(a: Json, b: Json) -> list[str]:
    """Lines: what differs in the setup, then one row per matched level (or pipeline figure)."""
    lines = [f"A: {a['created_at']}   B: {b['created_at']}", *context_differences(a, b)]
    shared = [section for section in ("model", "pipeline") if section in a and section in b]
    if not shared:
        return [*lines, "no model or pipeline section in both reports: nothing to compare"]
    if "model" in shared:
        lines += configuration_differences(a["model"]["configuration"], b["model"]["configuration"])
        rows = list(comparison_rows(a["model"], b["model"]))
        lines += render_rows(_HEADER, rows) if rows else ["no level appears in both reports"]
    if "pipeline" in shared:
        lines += pipeline_comparison(a["pipeline"], b["pipeline"])
    return lines


def pipeline_comparison(a: Json, b: Json) -> list[str]:
    """Configuration differences, then per-stage latency, throughput, drops and the direct comparison."""
    config_a, config_b = a["configuration"], b["configuration"]
    lines = [f"differs: pipeline.configuration.{key}: {config_a[key]} -> {config_b[key]}"
             for key in config_a if config_a.get(key) != config_b.get(key)]  # fmt: skip
    rows = []
    for stage in a["latency_ms"]:
        if stage in b["latency_ms"]:
            for pct in ("p50_ms", "p99_ms"):
                first, second = a["latency_ms"][stage][pct], b["latency_ms"][stage][pct]
                rows.append([f"{stage} {pct[:-3]} ms", fmt(first), fmt(second), _change(first, second)])
    for name, read in _PIPELINE_FIGURES:
        first, second = read(a), read(b)
        rows.append([name, fmt(first, ".2f"), fmt(second, ".2f"), _change(first, second)])
    return [*lines, "pipeline:", *render_rows(_PIPELINE_HEADER, rows)]


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
    levels_b = _levels(b)
    for key, level_a in _levels(a).items():
        level_b = levels_b.get(key)
        if level_b is None:
            continue
        for name, read in _METRICS:
            yield [key[0], level_label(level_a), name, fmt(read(level_a), ".2f"), fmt(read(level_b), ".2f"),
                   _change(read(level_a), read(level_b))]  # fmt: skip


def _levels(section: Json) -> dict[tuple[str, str], Json]:
    return {(run["wire_format"], level_label(level)): level for run in section["runs"] for level in run["levels"]}


def _change(a: float | None, b: float | None) -> str:
    if a is None or b is None or a == 0:
        return "-"
    return f"{(b - a) / a * 100:+.1f} %"
