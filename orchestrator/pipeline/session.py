"""A whole ``pitchside run``: Triton (given or embedded), endpoint pool, sinks, metrics, streams, progress."""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Final

from prometheus_client import REGISTRY, CollectorRegistry
from threadpoolctl import threadpool_limits

from orchestrator.config.run_config import ConfigError, RunConfig
from orchestrator.metrics.http_server import MetricsServer
from orchestrator.metrics.pipeline_metrics import PipelineMetrics
from orchestrator.metrics.rolling import StreamStats
from orchestrator.pipeline.annotated_video import AnnotatedVideoWriter, annotated_video_path
from orchestrator.pipeline.emitter import EventEmitter
from orchestrator.pipeline.runner import Pipeline
from orchestrator.pitch.templates import PitchTemplate
from orchestrator.sinks.fanout import SinkFanout
from orchestrator.sinks.metrics import SinkStats
from orchestrator.sources.capture import FrameReader, open_reader
from orchestrator.sources.spec import SourceSpec
from orchestrator.tracing.export import frame_tracing
from orchestrator.triton.endpoint import triton_endpoint
from orchestrator.triton.errors import TritonUnavailableError
from orchestrator.triton.labels import Labels
from orchestrator.triton.pool import EndpointPool
from orchestrator.triton.tracing import TritonTracing

log = logging.getLogger(__name__)
STARTUP_HEALTH_TIMEOUT_S: Final = 10.0


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    triton_urls: tuple[str, ...]
    elapsed_s: float
    streams: tuple[StreamStats, ...]
    sinks: tuple[SinkStats, ...]

    def lines(self) -> list[str]:
        out = [f"run {self.run_id}: {self.elapsed_s:.1f} s against {', '.join(self.triton_urls)}"]
        for s in self.streams:
            out.append(
                f"  {s.stream_id}: {s.state}, {s.frames_read} frames read, "
                f"{s.events - s.frame_errors} detection events, "
                f"{s.frame_errors} frame errors, {s.dropped} dropped, {s.retries} retries, "
                f"{s.average_fps():.1f} fps, glass-to-event p50 {s.percentile(50):.1f} ms p99 {s.percentile(99):.1f} ms"
            )
        for sink in self.sinks:
            out.append(
                f"  sink {sink.sink}: {sink.delivered} delivered, {sink.journaled} journaled, "
                f"{sink.dead_lettered} dead-lettered, {sink.retried} retried, {sink.dropped} lost (journal disk failed)"
            )
        return out


async def run_session(
    config: RunConfig,
    *,
    registry: CollectorRegistry = REGISTRY,
    report: Callable[[str], None] = print,
    stop: asyncio.Event | None = None,
    reader_factory: Callable[[SourceSpec], FrameReader] = open_reader,
) -> RunSummary:
    """Run every stream to its end (or until ``stop`` is set) and return the summary.

    Raises TritonUnavailableError when no Triton endpoint is ready at start.
    """
    config = config.validated()
    started = time.monotonic()
    # The orchestrator's numpy work (tracking, boxes) is tiny, and OpenBLAS's idle worker threads busy-wait:
    # on a shared CPU they steal the cores the detector needs. One BLAS thread per process while a session
    # runs measured 7.3 -> 13-15 fps end to end on 2 cores (docs/PERFORMANCE.md).
    with threadpool_limits(limits=1, user_api="blas"):
        return await _run(config, registry, report, stop, started, reader_factory)


async def _run(
    config: RunConfig,
    registry: CollectorRegistry,
    report: Callable[[str], None],
    stop: asyncio.Event | None,
    started: float,
    reader_factory: Callable[[SourceSpec], FrameReader],
) -> RunSummary:
    async with AsyncExitStack() as stack:
        tracer = await stack.enter_async_context(frame_tracing(config.tracing))
        urls = config.triton.urls or (
            await stack.enter_async_context(
                triton_endpoint(None, config.triton.model_repository, _embedded_tracing(config))
            ),
        )
        pool = await stack.enter_async_context(
            EndpointPool.connect(urls, config.triton.model, config.triton.request_timeout_s, config.triton.wire)
        )
        if not await pool.wait_healthy(STARTUP_HEALTH_TIMEOUT_S):
            model = config.triton.model or config.triton.wire.model
            raise TritonUnavailableError(f"no Triton endpoint ready at {', '.join(urls)} (model {model})")
        _check_cameras(config, pool.labels)
        fanout = await stack.enter_async_context(SinkFanout.from_uris(config.sinks, config.delivery, registry=registry))
        stats = {spec.stream_id: StreamStats(spec.stream_id) for spec in config.streams}
        annotators = await stack.enter_async_context(_annotators(config))
        metrics = PipelineMetrics(registry)
        emitter = EventEmitter(fanout, metrics, stats, annotators)
        pipeline = Pipeline(config, pool, emitter, reader_factory=reader_factory, tracer=tracer)
        for stream in pipeline.streams:
            metrics.watch(stream)
        if config.metrics_port is not None:
            stack.enter_context(_metrics_server(config.metrics_host, config.metrics_port, registry, pool))
        where = ", ".join(urls)
        report(f"run {pipeline.run_id}: {len(config.streams)} stream(s), {config.flow.mode} mode, Triton at {where}")
        async with asyncio.TaskGroup() as tasks:
            progress = tasks.create_task(_progress(stats, pipeline, config.progress_interval_s, report))
            watcher = tasks.create_task(_stop_on(stop, pipeline)) if stop is not None else None
            await pipeline.run()
            progress.cancel()
            if watcher is not None:
                watcher.cancel()
    return RunSummary(pipeline.run_id, tuple(urls), time.monotonic() - started, tuple(stats.values()), fanout.stats())


def _embedded_tracing(config: RunConfig) -> TritonTracing | None:
    """An embedded server joins the run's traces, exporting to the same receiver."""
    return TritonTracing(config.tracing.traces_url) if config.tracing.enabled else None


@contextlib.asynccontextmanager
async def _annotators(config: RunConfig) -> AsyncIterator[dict[str, AnnotatedVideoWriter]]:
    """With ``annotate`` (a folder): one annotated video per stream, ``<folder>/<stream_id>.webm``, finished on
    threads when the run ends (each writer drains its queue and ffmpeg writes the index)."""
    if config.annotate is None:
        yield {}
        return
    writers = {
        spec.stream_id: AnnotatedVideoWriter(
            annotated_video_path(config.annotate, spec.stream_id), template=_pitch_template(config, spec)
        )
        for spec in config.streams
    }
    for writer in writers.values():
        writer.start()
    try:
        yield writers
    finally:
        await asyncio.gather(*(asyncio.to_thread(writer.close) for writer in writers.values()))


def _pitch_template(config: RunConfig, spec: SourceSpec) -> PitchTemplate | None:
    """The pitch a stream's calibration maps onto, drawn as the radar beside its video; None (camera view only)
    for an uncalibrated camera."""
    pitch = config.camera_for(spec).pitch
    return None if pitch is None else pitch.template


@contextlib.contextmanager
def _metrics_server(host: str, port: int, registry: CollectorRegistry, pool: EndpointPool) -> Iterator[MetricsServer]:
    server = MetricsServer(port, lambda: any(e.healthy for e in pool.endpoints), registry, host)
    server.start()
    log.info("metrics on %s:%d/metrics, health on /healthz", host, server.port)
    try:
        yield server
    finally:
        server.stop()


async def _progress(
    stats: dict[str, StreamStats], pipeline: Pipeline, interval_s: float, report: Callable[[str], None]
) -> None:
    while True:
        await asyncio.sleep(interval_s)
        for stream in pipeline.streams:
            report(f"{stats[stream.stream_id].line()}  queue {stream.queue_depth}")


async def _stop_on(stop: asyncio.Event, pipeline: Pipeline) -> None:
    await stop.wait()
    pipeline.stop()


def _check_cameras(config: RunConfig, labels: Labels | None) -> None:
    """Refuse class names the served model does not have; report each calibration (its reprojection error)."""
    names = () if labels is None else labels.names
    for spec in config.streams:
        camera = config.camera_for(spec)
        unknown = camera.unknown_classes(names)
        if unknown:
            known = ", ".join(names) if names else "none: the model has no labels file, use class_<id>"
            raise ConfigError(f"stream {spec.stream_id}: classes {unknown} are not the model's (its classes: {known})")
        if camera.pitch is not None:
            log.info("stream %s calibrated: %s", spec.stream_id, camera.pitch.describe())
