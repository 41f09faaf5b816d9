"""Optional PNG plots of a report: latency CDFs, throughput and p99 against the load level, and for the pipeline
mode a CDF per stage and drops over time.

Needs matplotlib (``pip install 'pitchside[plots]'``); everything else in the benchmark works without it.
"""

from pathlib import Path
from typing import Any

from orchestrator.bench.table import level_label

Json = dict[str, Any]


class PlotsUnavailableError(RuntimeError):
    """matplotlib is not installed."""


def write_plots(report: Json, directory: Path) -> list[Path]:
    """Write the report's plots and return their paths: for a model section ``latency_cdf.png`` and
    ``throughput_p99.png``; for a pipeline section ``pipeline_latency_cdf.png`` (one CDF per stage) and
    ``pipeline_drops.png`` (frames emitted and dropped per second of footage)."""
    plt = _pyplot()
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    if "model" in report:
        runs = report["model"]["runs"]
        paths += [_cdf(plt, runs, directory / "latency_cdf.png"), _sweep(plt, runs, directory / "throughput_p99.png")]
    if "pipeline" in report:
        section = report["pipeline"]
        paths += [
            _stage_cdfs(plt, section, directory / "pipeline_latency_cdf.png"),
            _drops(plt, section, directory / "pipeline_drops.png"),
        ]
    return paths


def require_matplotlib() -> None:
    """PlotsUnavailableError now, rather than after a long run."""
    _pyplot()


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlotsUnavailableError("--plot-dir needs matplotlib: pip install 'pitchside[plots]'") from exc
    return plt


def _cdf(plt: Any, runs: list[Json], path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(8, 5))
    for run in runs:
        for level in run["levels"]:
            _cdf_line(axes, level["client"]["cdf_ms"], f"{run['wire_format']} {level_label(level)}", "-")
            if level["direct"] is not None:
                _cdf_line(axes, level["direct"]["cdf_ms"], f"direct b={level['direct']['batch_size']}", ":")
    axes.set(xlabel="latency per frame (ms)", ylabel="fraction of frames", title="Latency CDF")
    return _save(plt, figure, axes, path)


def _sweep(plt: Any, runs: list[Json], path: Path) -> Path:
    figure, (fps_axes, p99_axes) = plt.subplots(1, 2, figsize=(11, 4.5))
    for run in runs:
        labels = [level_label(level) for level in run["levels"]]
        fps_axes.plot(labels, [lv["client"]["throughput_fps"] for lv in run["levels"]], "o-", label=run["wire_format"])
        p99_axes.plot(labels, [_p99(lv["client"]) for lv in run["levels"]], "o-", label=run["wire_format"])
        directs = [lv["direct"] for lv in run["levels"]]
        if all(d is not None for d in directs):
            fps_axes.plot(labels, [d["throughput_fps"] for d in directs], "s:", label=f"direct ({run['wire_format']})")
            p99_axes.plot(labels, [_p99(d) for d in directs], "s:", label=f"direct ({run['wire_format']})")
    fps_axes.set(xlabel="load level", ylabel="frames per second", title="Throughput")
    p99_axes.set(xlabel="load level", ylabel="p99 latency (ms)", title="p99 latency")
    fps_axes.legend()
    return _save(plt, figure, p99_axes, path)


def _stage_cdfs(plt: Any, section: Json, path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(8, 5))
    for stage, points in section.get("cdf_ms_by_stage", {"glass_to_event": section.get("cdf_ms", [])}).items():
        _cdf_line(axes, points, stage, "-")
    direct = section.get("direct")
    if direct is not None:
        _cdf_line(axes, direct["cdf_ms"], "direct (batch 1)", ":")
    config = section["configuration"]
    axes.set(
        xlabel="latency per frame (ms)",
        ylabel="fraction of frames",
        title=f"Latency CDF per stage: {config['streams']} stream(s) at {config['fps']:g} fps",
    )
    return _save(plt, figure, axes, path)


def _drops(plt: Any, section: Json, path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(9, 4.5))
    timeline = section.get("timeline", [])
    seconds = [point["t_s"] for point in timeline]
    for key, style in (("events", "o-"), ("dropped", "s-"), ("errors", "x:")):
        axes.plot(
            seconds,
            [point[key] for point in timeline],
            style,
            label=f"frames {key}" if key != "events" else "frames emitted",
        )
    axes.set(xlabel="second of footage", ylabel="frames per second, all streams", title="Frames emitted and dropped")
    return _save(plt, figure, axes, path)


def _cdf_line(axes: Any, points: list[list[float]], label: str, style: str) -> None:
    if points:
        axes.plot([p[0] for p in points], [p[1] for p in points], style, label=label)


def _p99(measured: Json) -> float | None:
    return None if measured["latency_ms"] is None else float(measured["latency_ms"]["p99_ms"])


def _save(plt: Any, figure: Any, axes: Any, path: Path) -> Path:
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
