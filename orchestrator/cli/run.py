"""``pitchside run``: stream video sources through the detection ensemble into event sinks."""

import asyncio
import logging
import os
import signal
from pathlib import Path

import typer

from orchestrator.cli.run_options import (
    AnnotateOption,
    ConfigFileOption,
    DurabilityOption,
    MaxFramesOption,
    MetricsHostOption,
    MetricsPortOption,
    ModelRepositoryOption,
    ModeOption,
    OfflineOption,
    OtlpEndpointOption,
    RealtimeOption,
    RunFlags,
    RunStateDirOption,
    ShardOption,
    SinkOption,
    SourceOption,
    TritonUrlsOption,
    WireOption,
    resolve,
)
from orchestrator.config.run_config import ConfigError, RunConfig
from orchestrator.pipeline.session import RunSummary, run_session
from orchestrator.sinks.errors import SinkConfigError
from orchestrator.triton.errors import TritonError

log = logging.getLogger(__name__)


def run(
    source: SourceOption = None,
    sink: SinkOption = None,
    triton_url: TritonUrlsOption = None,
    config: ConfigFileOption = None,
    mode: ModeOption = None,
    offline: OfflineOption = False,
    realtime: RealtimeOption = False,
    wire: WireOption = None,
    annotate: AnnotateOption = None,
    metrics_port: MetricsPortOption = None,
    metrics_host: MetricsHostOption = None,
    max_frames: MaxFramesOption = None,
    shard: ShardOption = None,
    model_repository: ModelRepositoryOption = None,
    durability: DurabilityOption = None,
    state_dir: RunStateDirOption = None,
    otlp_endpoint: OtlpEndpointOption = None,
) -> None:
    """Run camera streams through Triton and deliver ordered, tracked detection events."""
    flags = RunFlags(
        source,
        sink,
        triton_url,
        mode,
        offline,
        realtime,
        wire,
        annotate,
        metrics_port,
        metrics_host,
        max_frames,
        shard,
        model_repository,
        durability,
        state_dir,
        otlp_endpoint,
    )
    settings = load_or_exit(config, flags)
    try:
        summary = asyncio.run(_run_until_signal(settings))
    except (TritonError, SinkConfigError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    for line in summary.lines():
        typer.echo(line)


def load_or_exit(config: Path | None, flags: RunFlags, *, code: int = 2) -> RunConfig:
    """The effective configuration, or every problem with it on stderr (one ``error:`` line each) and exit
    ``code``, before any server starts."""
    try:
        return resolve(config, flags, os.environ)
    except ConfigError as exc:
        for line in exc.problems:
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(code=code) from None


async def _run_until_signal(config: RunConfig) -> RunSummary:
    """First SIGINT/SIGTERM: stop reading, finish in-flight frames, flush sinks. Second: cancel."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def on_signal() -> None:
        if stop.is_set() and main is not None:
            main.cancel()
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    try:
        return await run_session(config, report=lambda line: typer.echo(line, err=True), stop=stop)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
