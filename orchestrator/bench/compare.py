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


def compare_reports(a: Json, b: Json) -> list[str]:
    """Lines: what differs in the setup, then one row per matched level and figure."""
    lines = [f"A: {a['created_at']}   B: {b['created_at']}", *context_differences(a, b)]
    if "model" not in a or "model" not in b:
        return [*lines, "no model section in both reports: nothing to compare"]
    lines += configuration_differences(a["model"]["configuration"], b["model"]["configuration"])
    rows = list(comparison_rows(a["model"], b["model"]))
    return [*lines, *(render_rows(_HEADER, rows) if rows else ["no level appears in both reports"])]


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
