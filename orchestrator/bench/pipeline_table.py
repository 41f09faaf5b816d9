"""The pipeline section of a report as plain text."""

from typing import Any

from orchestrator.bench.report import ADDED_LATENCY_TARGET_MS
from orchestrator.bench.text_table import fmt, render_rows

Json = dict[str, Any]


def pipeline_lines(section: Json) -> list[str]:
    config = section["configuration"]
    lines = [
        "",
        f"pipeline: {config['streams']} live stream(s) at {config['fps']:g} fps for {config['duration_s']:g} s "
        f"of {config['footage']}, {config['server']} server",
        *render_rows(
            ("stream", "frames in", "events", "fps", "dropped"),
            (
                [
                    s["stream"],
                    str(s["frames_in"]),
                    str(s["frames_out"]),
                    fmt(s["achieved_fps"]),
                    ", ".join(f"{k} {v}" for k, v in s["dropped"].items()) or "0",
                ]
                for s in section["streams"]
            ),
        ),
        *timeline_lines(section.get("timeline", [])),
        "",
        "latency per frame, ms:",
        *render_rows(
            ("stage", "p50", "p90", "p99", "max"),
            (
                [stage, fmt(v["p50_ms"]), fmt(v["p90_ms"]), fmt(v["p99_ms"]), fmt(v["max_ms"])]
                for stage, v in section["latency_ms"].items()
            ),
        ),
    ]
    return lines + _direct_lines(section)


def timeline_lines(timeline: list[Json]) -> list[str]:
    """Drops per second of footage, so a reader sees whether they came in bursts or steadily."""
    if not timeline:
        return []
    if not any(point["dropped"] or point["errors"] for point in timeline):
        return ["no frame dropped or failed"]
    return [
        f"dropped per second of footage: {' '.join(str(point['dropped']) for point in timeline)}",
        f"frame errors per second:       {' '.join(str(point['errors']) for point in timeline)}",
    ]


def _direct_lines(section: Json) -> list[str]:
    direct, ratio, added = section["direct"], section["ratio_vs_direct"], section["added_latency_ms"]
    cpu = section["cpu"]
    busy = fmt(cpu["machine_busy_pct"], ".0f")
    lines = [f"cpu: this process {cpu['process_pct']:.0f} % of a core, machine {busy} % busy"]
    if direct is None or direct["latency_ms"] is None:
        return [*lines, "direct baseline: not measured"]
    verdict = "-" if added is None else ("MET" if added <= ADDED_LATENCY_TARGET_MS else "MISSED")
    return [
        *lines,
        f"direct baseline (one process, batch 1): p50 {direct['latency_ms']['p50_ms']:.1f} ms, "
        f"{direct['throughput_fps']:.1f} fps",
        f"glass-to-event / direct: p50 x{fmt(ratio and ratio['p50'], '.2f')}, "
        f"p99 x{fmt(ratio and ratio['p99'], '.2f')}",
        f"added latency (glass-to-event p50 - direct p50): {fmt(added, '+.1f')} ms "
        f"(target <= {ADDED_LATENCY_TARGET_MS:g} ms: {verdict})",
    ]
