"""``pitchside bench pipeline``: N simulated live streams at F fps through the full orchestrator.

Every frame takes the real path (decode on a source thread, live buffer, gRPC to Triton, ordering,
tracking, a JSONL sink); per-stage latencies come from the events themselves. The direct baseline (the
same pre/post functions and detector in one process, batch 1) is measured in the same run, first,
with the server idle, and every report states the ratio.
"""

import asyncio
import contextlib
import datetime as dt
import json
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from prometheus_client import CollectorRegistry

from orchestrator.bench.cpu import sample_cpu, usage_between
from orchestrator.bench.direct import DirectSettings, build_pipeline, load_detector
from orchestrator.bench.footage import load_footage
from orchestrator.bench.generic_client import GenericTritonClient
from orchestrator.bench.latency import LatencySummary, cdf_points
from orchestrator.bench.levels import DirectLevel
from orchestrator.bench.machine import describe_machine, load_average, package_versions
from orchestrator.bench.measure import measure_direct_level
from orchestrator.bench.progress import BenchProgress
from orchestrator.bench.report import direct_block, envelope, ratio_vs_direct
from orchestrator.bench.settings import BENCH_RELEASES_SERVER_MEMORY, WindowSettings
from orchestrator.bench.simulated_camera import SimulatedCamera
from orchestrator.bench.stage_tensors import compute_stage_tensors
from orchestrator.bench.stages import Stage
from orchestrator.config.run_config import FlowSettings, Mode, RunConfig, TritonSettings
from orchestrator.metrics.rolling import StreamStats
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY, MEDIA_DIR
from orchestrator.pipeline.session import RunSummary, run_session
from orchestrator.sinks.settings import DeliverySettings
from orchestrator.sources.capture import FrameReader
from orchestrator.sources.spec import SourceSpec, parse_source
from orchestrator.triton.client import DEFAULT_REQUEST_TIMEOUT_S
from orchestrator.triton.endpoint import triton_endpoint
from orchestrator.triton.wire import WireFormat

Json = dict[str, Any]
STAGES: Final = ("decode", "queue", "inference", "glass_to_event")
DIRECT_FRAMES: Final = 32
DIRECT_WINDOWS: Final = WindowSettings(warmup_s=1.0, window_s=3.0, max_windows=4, stable_windows=2)
QUICK_DIRECT_WINDOWS: Final = WindowSettings(warmup_s=0.2, window_s=0.5, max_windows=1, stable_windows=1)
TICK_S: Final = 0.5
TIMELINE_BIN_S: Final = 1.0
"""The drops-over-time timeline counts frames per second of footage."""
FRAME_EVENTS: Final = ("detections", "frame_error")


@dataclass(frozen=True)
class PipelineBenchConfig:
    streams: int = 1
    fps: float = 10.0
    duration_s: float = 30.0
    footage: Path = MEDIA_DIR / "vtest.avi"
    triton_url: str | None = None
    model_repository: Path = DEFAULT_MODEL_REPOSITORY
    direct_windows: WindowSettings = DIRECT_WINDOWS

    def __post_init__(self) -> None:
        if self.streams < 1 or self.fps <= 0 or self.duration_s <= 0:
            raise ValueError("streams must be >= 1, fps and duration_s > 0")

    @property
    def frames_per_stream(self) -> int:
        return max(1, round(self.fps * self.duration_s))


async def run_pipeline_bench(config: PipelineBenchConfig, progress: BenchProgress) -> Json:
    """The whole report (envelope + ``pipeline`` section), not yet validated."""
    started_at, machine = dt.datetime.now(dt.UTC), describe_machine()
    async with triton_endpoint(
        config.triton_url, config.model_repository, release_memory=BENCH_RELEASES_SERVER_MEMORY
    ) as url:
        async with GenericTritonClient.connect(url, DEFAULT_REQUEST_TIMEOUT_S) as client:
            server_version = await client.server_version()
            configs = {stage: await client.model_config(stage.value) for stage in Stage}
        progress.note(f"Triton {server_version} at {url}: direct baseline (batch 1, server idle) ...")
        direct = await asyncio.to_thread(_measure_direct, configs, config)
        progress.plan(config.duration_s, "s")
        with tempfile.TemporaryDirectory(prefix="pitchside-bench-") as scratch:
            async with _ticking(progress, f"{config.streams} stream(s) at {config.fps:g} fps", config.duration_s):
                summary, events, cpu = await _run_streams(config, url, Path(scratch))
    versions = {**package_versions(), "triton_server": server_version}
    report = envelope(started_at, {**machine, "load_average_end": load_average()}, versions)
    report["pipeline"] = pipeline_section(config, summary, events, cpu, direct_block(direct))
    return report


def pipeline_section(
    config: PipelineBenchConfig, summary: RunSummary, events: Sequence[Json], cpu: Json, direct: Json
) -> Json:
    frames = [e for e in events if e["type"] == "detections"]
    latency = {stage: _summary([e["latency_ms"][stage] for e in frames]) for stage in STAGES}
    glass = latency["glass_to_event"]
    through = {"latency_ms": glass, "throughput_fps": sum(_achieved_fps(frames, s.stream_id) for s in summary.streams)}
    added = None if glass is None or direct["latency_ms"] is None else glass["p50_ms"] - direct["latency_ms"]["p50_ms"]
    return {
        "configuration": {
            "streams": config.streams,
            "fps": config.fps,
            "duration_s": config.duration_s,
            "footage": config.footage.name,
            "server": "external" if config.triton_url else "embedded",
        },
        "streams": [_stream(s, frames) for s in summary.streams],
        "latency_ms": {stage: value for stage, value in latency.items() if value is not None},
        "cdf_ms": _cdf([e["latency_ms"]["glass_to_event"] for e in frames]),
        "cdf_ms_by_stage": {
            stage: _cdf([e["latency_ms"][stage] for e in frames]) for stage in latency if latency[stage] is not None
        },
        "timeline": timeline(events, config.fps, {s.stream_id: s.frames_read for s in summary.streams}),
        "cpu": cpu,
        "direct": direct,
        "ratio_vs_direct": ratio_vs_direct(through, direct, closed_loop=False),
        "added_latency_ms": added,
    }


@asynccontextmanager
async def _ticking(progress: BenchProgress, label: str, total_s: float) -> AsyncIterator[None]:
    """Advance ``progress`` by the seconds of footage played while the body runs (capped at ``total_s``)."""

    async def tick() -> None:
        done = 0.0
        while done < total_s:
            await asyncio.sleep(TICK_S)
            step = min(TICK_S, total_s - done)
            done += step
            progress.advance(label, step)

    task = asyncio.create_task(tick())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _measure_direct(configs: dict[Stage, Json], config: PipelineBenchConfig) -> DirectLevel:
    settings = DirectSettings.from_configs(configs, config.model_repository)
    detector = load_detector(settings)
    tensors = compute_stage_tensors(load_footage(config.footage, DIRECT_FRAMES), settings.input_size)
    pipeline = build_pipeline(tuple(Stage), tensors, detector, settings, WireFormat.RAW)
    return measure_direct_level(pipeline, 1, config.direct_windows)


async def _run_streams(config: PipelineBenchConfig, url: str, scratch: Path) -> tuple[RunSummary, list[Json], Json]:
    streams = tuple(parse_source(str(config.footage), f"camera-{i}") for i in range(config.streams))
    run = RunConfig(
        streams=streams,
        sinks=(f"jsonl:{scratch / 'events.jsonl'}",),
        triton=TritonSettings(urls=(url,)),
        flow=FlowSettings(mode=Mode.LIVE, max_frames=config.frames_per_stream),
        metrics_port=None,
        progress_interval_s=3600.0,
        delivery=DeliverySettings(journal_dir=scratch / "journal", dead_letter_path=scratch / "dead-letter.jsonl"),
    )

    def cameras(spec: SourceSpec) -> FrameReader:
        return SimulatedCamera(config.footage, config.fps)

    start = sample_cpu()
    summary = await run_session(run, registry=CollectorRegistry(), report=lambda line: None, reader_factory=cameras)
    cpu = usage_between(start, sample_cpu()).to_dict()
    events = [json.loads(line) for line in (scratch / "events.jsonl").read_text().splitlines()]
    return summary, events, cpu


def _stream(stats: StreamStats, frames: Sequence[Json]) -> Json:
    out = [e for e in frames if e["stream_id"] == stats.stream_id]
    return {
        "stream": stats.stream_id,
        "frames_in": stats.frames_read,
        "frames_out": len(out),
        "achieved_fps": _achieved_fps(frames, stats.stream_id),
        "dropped": dict(stats.dropped_by_reason),
    }


def _achieved_fps(frames: Sequence[Json], stream_id: str) -> float:
    times = [e["emitted_at"] for e in frames if e["stream_id"] == stream_id]
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0


def _summary(values_ms: Sequence[float]) -> Json | None:
    summary = LatencySummary.of(np.array([v * 1e6 for v in values_ms], dtype=np.int64))
    return None if summary is None else summary.to_dict()


def timeline(events: Sequence[Json], fps: float, frames_read: Mapping[str, int]) -> list[Json]:
    """Per second of footage, over all streams: frames that became events, frame errors, and frames dropped
    (read but never emitted, placed at their own position in the footage: frame_seq / fps)."""
    bins = max(1, int(np.ceil(max(frames_read.values(), default=1) / fps / TIMELINE_BIN_S)))
    counts = {key: np.zeros(bins, dtype=np.int64) for key in ("events", "errors", "dropped")}
    emitted: dict[str, set[int]] = {stream: set() for stream in frames_read}
    for event in (e for e in events if e["type"] in FRAME_EVENTS):
        seq = int(event["frame_seq"])
        emitted.setdefault(event["stream_id"], set()).add(seq)
        counts["events" if event["type"] == "detections" else "errors"][_bin(seq, fps, bins)] += 1
    for stream, seqs in emitted.items():
        for seq in set(range(frames_read.get(stream, 0))) - seqs:
            counts["dropped"][_bin(seq, fps, bins)] += 1
    return [{"t_s": i * TIMELINE_BIN_S, **{key: int(values[i]) for key, values in counts.items()}} for i in range(bins)]


def _bin(seq: int, fps: float, bins: int) -> int:
    return min(bins - 1, int(seq / fps / TIMELINE_BIN_S))


def _cdf(values_ms: Sequence[float]) -> list[list[float]]:
    return cdf_points(np.array([v * 1e6 for v in values_ms], dtype=np.int64))
