"""``pitchside run``: stream video sources through the detection ensemble into event sinks."""

import asyncio
import logging
import os
import re
import signal
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from orchestrator.cli.options import StateDirOption
from orchestrator.config.run_config import (
    DEFAULT_SOURCE,
    ConfigError,
    Mode,
    RunConfig,
    Shard,
    from_mapping,
    load_toml,
)
from orchestrator.pipeline.session import RunSummary, run_session
from orchestrator.sinks.errors import SinkConfigError
from orchestrator.sinks.settings import Durability
from orchestrator.sources.spec import SourceSpec, parse_source
from orchestrator.tracing.settings import OTLP_ENDPOINT_ENV
from orchestrator.triton.errors import TritonError
from orchestrator.triton.wire import WireFormat

log = logging.getLogger(__name__)
# ID=URI: anything before the first '=' that cannot be part of a path or URL scheme is the id, checked later.
_NAMED_SOURCE = re.compile(r"^(?P<id>[^=/:]+)=(?P<uri>.+)$", re.DOTALL)


def run(
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            "-s",
            help="Video file, image directory, RTSP/HTTP/HLS URL or synthetic:?...; "
            "ID=URI names the stream. Repeatable. Default: the bundled sample clip.",
        ),
    ] = None,
    sink: Annotated[
        list[str] | None,
        typer.Option(
            "--sink", help="jsonl:PATH, stdout:, kinesis://STREAM, sqs://QUEUE, s3://BUCKET/PREFIX. Repeatable."
        ),
    ] = None,
    triton_url: Annotated[
        list[str] | None,
        typer.Option(
            "--triton-url",
            envvar="PITCHSIDE_TRITON_URL",
            help="gRPC endpoint(s) of Triton; without one an embedded server is started. Repeatable.",
        ),
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", exists=True, help="TOML config file.")] = None,
    mode: Annotated[
        Mode | None,
        typer.Option("--mode", help="live: files paced at native fps, drop-oldest; offline: every frame, no drops."),
    ] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Same as --mode offline.")] = False,
    realtime: Annotated[bool, typer.Option("--realtime", help="Same as --mode live.")] = False,
    wire: Annotated[WireFormat | None, typer.Option(help="How frames travel to Triton.")] = None,
    annotate: Annotated[Path | None, typer.Option(help="Write an annotated video of the first stream here.")] = None,
    metrics_port: Annotated[int | None, typer.Option(help="Prometheus /metrics and /healthz port; 0 disables.")] = None,
    metrics_host: Annotated[
        str | None, typer.Option(help="Address the metrics port binds (default 127.0.0.1; 0.0.0.0 for all).")
    ] = None,
    max_frames: Annotated[int | None, typer.Option(min=1, help="Stop each stream after this many frames.")] = None,
    shard: Annotated[
        str | None, typer.Option(envvar="PITCHSIDE_SHARD", help="INDEX/COUNT: take every COUNT-th stream from INDEX.")
    ] = None,
    model_repository: Annotated[Path | None, typer.Option(help="Repository for the embedded server.")] = None,
    durability: Annotated[
        Durability | None,
        typer.Option(help="write_ahead: every event is in the sink journal before it counts (kill -9 loses none)."),
    ] = None,
    state_dir: StateDirOption = None,
    otlp_endpoint: Annotated[
        str | None,
        typer.Option(
            help="Trace every frame with OpenTelemetry and export the spans to this OTLP/HTTP endpoint "
            "(http://HOST:4318); turns [tracing] on. Without it, [tracing] otlp_endpoint or "
            f"{OTLP_ENDPOINT_ENV} says where.",
        ),
    ] = None,
) -> None:
    """Run camera streams through Triton and deliver ordered, tracked detection events."""
    try:
        base = load_toml(config, state_dir=state_dir) if config is not None else from_mapping({}, state_dir=state_dir)
        chosen_mode = Mode.OFFLINE if offline else Mode.LIVE if realtime else mode
        settings = _apply_flags(
            base,
            source,
            sink,
            triton_url,
            chosen_mode,
            wire,
            annotate,
            metrics_port,
            metrics_host,
            max_frames,
            shard,
            model_repository,
        ).validated()
        if durability is not None:
            settings = replace(settings, durability=durability)
        settings = _with_tracing(settings, otlp_endpoint, os.environ.get(OTLP_ENDPOINT_ENV)).validated()
    except (ConfigError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    try:
        summary = asyncio.run(_run_until_signal(settings))
    except (TritonError, SinkConfigError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    for line in summary.lines():
        typer.echo(line)


def _apply_flags(
    base: RunConfig,
    sources: list[str] | None,
    sinks: list[str] | None,
    triton_urls: list[str] | None,
    mode: Mode | None,
    wire: WireFormat | None,
    annotate: Path | None,
    metrics_port: int | None,
    metrics_host: str | None,
    max_frames: int | None,
    shard: str | None,
    model_repository: Path | None,
) -> RunConfig:
    config = base
    if sources:
        config = replace(config, streams=tuple(_named_source(s) for s in sources))
    elif not config.streams:
        config = replace(config, streams=(parse_source(str(DEFAULT_SOURCE), "sample"),))
    if sinks:
        config = replace(config, sinks=tuple(sinks))
    triton = config.triton
    if triton_urls:
        triton = replace(triton, urls=tuple(triton_urls))
    if wire is not None:
        triton = replace(triton, wire=wire)
    if model_repository is not None:
        triton = replace(triton, model_repository=model_repository)
    flow = config.flow
    if mode is not None:
        flow = replace(flow, mode=mode)
    if max_frames is not None:
        flow = replace(flow, max_frames=max_frames)
    config = replace(config, triton=triton, flow=flow)
    if annotate is not None:
        config = replace(config, annotate=annotate)
    if metrics_port is not None:
        config = replace(config, metrics_port=metrics_port or None)
    if metrics_host is not None:
        config = replace(config, metrics_host=metrics_host)
    if shard:
        config = replace(config, streams=Shard.parse(shard).select(config.streams))
    return config


def _with_tracing(config: RunConfig, otlp_endpoint: str | None, env_endpoint: str | None) -> RunConfig:
    """``--otlp-endpoint`` turns tracing on and says where; otherwise the file's endpoint, then the
    environment's (OTEL_EXPORTER_OTLP_ENDPOINT, the OpenTelemetry convention), then the default."""
    tracing = config.tracing
    if otlp_endpoint:
        tracing = replace(tracing, enabled=True, otlp_endpoint=otlp_endpoint)
    elif tracing.otlp_endpoint is None and env_endpoint:
        tracing = replace(tracing, otlp_endpoint=env_endpoint)
    return replace(config, tracing=tracing)


def _named_source(text: str) -> SourceSpec:
    match = _NAMED_SOURCE.match(text)
    return parse_source(match["uri"], match["id"]) if match else parse_source(text)


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
