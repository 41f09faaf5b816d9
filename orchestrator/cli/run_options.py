"""The settings ``pitchside run`` takes on the command line, shared with ``pitchside config show``.

Each flag is turned into an override of one setting in the TOML layout and merged with the file and the
environment before the whole is checked once (``config.layers``), so a flag meets the same rules as the file.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from orchestrator.config.layers import Override, env_fallbacks, env_overrides, merge, read_toml
from orchestrator.config.run_config import DEFAULT_SOURCE, RunConfig, build
from orchestrator.tracing.settings import OTLP_ENDPOINT_ENV

# ID=URI: anything before the first '=' that cannot be part of a path or URL scheme is the id, checked later.
_NAMED_SOURCE = re.compile(r"^(?P<id>[^=/:]+)=(?P<uri>.+)$", re.DOTALL)
DEFAULT_STREAM_ID = "sample"

ConfigFileOption = Annotated[Path | None, typer.Option("--config", "-c", exists=True, help="TOML config file.")]
SourceOption = Annotated[
    list[str] | None,
    typer.Option(
        "--source",
        "-s",
        help="Video file, image directory, RTSP/HTTP/HLS URL or synthetic:?...; "
        "ID=URI names the stream. Repeatable. Default: the bundled sample clip.",
    ),
]
SinkOption = Annotated[
    list[str] | None,
    typer.Option("--sink", help="jsonl:PATH, stdout:, kinesis://STREAM, sqs://QUEUE, s3://BUCKET/PREFIX. Repeatable."),
]
TritonUrlsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--triton-url",
        help="gRPC endpoint(s) of Triton (env PITCHSIDE_TRITON_URL, comma-separated); without one an embedded "
        "server is started. Repeatable.",
    ),
]
ModeOption = Annotated[
    str | None,
    typer.Option("--mode", help="live: files paced at native fps, drop-oldest; offline: every frame, no drops."),
]
OfflineOption = Annotated[bool, typer.Option("--offline", help="Same as --mode offline.")]
RealtimeOption = Annotated[bool, typer.Option("--realtime", help="Same as --mode live.")]
WireOption = Annotated[str | None, typer.Option("--wire", help="How frames travel to Triton: letterbox, raw, jpeg.")]
AnnotateOption = Annotated[
    str | None,
    typer.Option(
        "--annotate",
        help="Folder for annotated videos: DIR/<stream_id>.webm per stream (boxes, track ids, pitch radar when "
        "calibrated), at the source's frame rate, playable in a browser.",
    ),
]
MetricsPortOption = Annotated[
    int | None, typer.Option("--metrics-port", help="Prometheus /metrics and /healthz port; 0 disables.")
]
MetricsHostOption = Annotated[
    str | None,
    typer.Option("--metrics-host", help="Address the metrics port binds (default 127.0.0.1; 0.0.0.0 for all)."),
]
MaxFramesOption = Annotated[int | None, typer.Option("--max-frames", help="Stop each stream after this many frames.")]
ShardOption = Annotated[
    str | None,
    typer.Option("--shard", help="INDEX/COUNT: take every COUNT-th stream from INDEX (env PITCHSIDE_SHARD)."),
]
ModelRepositoryOption = Annotated[
    str | None, typer.Option("--model-repository", help="Repository for the embedded server.")
]
DurabilityOption = Annotated[
    str | None,
    typer.Option(
        "--durability",
        help="buffered, or write_ahead: every event is in the sink journal before it counts (kill -9 loses none).",
    ),
]
RunStateDirOption = Annotated[
    str | None,
    typer.Option(
        "--state-dir",
        help="Writable directory for the sinks' journal and dead letters (env PITCHSIDE_STATE_DIR; a persistent "
        "volume in Kubernetes); overrides [delivery] state_dir. Default: out/ beside the config file.",
    ),
]
OtlpEndpointOption = Annotated[
    str | None,
    typer.Option(
        "--otlp-endpoint",
        help="Trace every frame with OpenTelemetry and export the spans to this OTLP/HTTP endpoint "
        "(http://HOST:4318); turns [tracing] on. Without it, [tracing] otlp_endpoint or "
        f"{OTLP_ENDPOINT_ENV} says where.",
    ),
]


@dataclass(frozen=True)
class RunFlags:
    """What was given on the command line; None (or empty) where a flag was left out."""

    source: list[str] | None = None
    sink: list[str] | None = None
    triton_url: list[str] | None = None
    mode: str | None = None
    offline: bool = False
    realtime: bool = False
    wire: str | None = None
    annotate: str | None = None
    metrics_port: int | None = None
    metrics_host: str | None = None
    max_frames: int | None = None
    shard: str | None = None
    model_repository: str | None = None
    durability: str | None = None
    state_dir: str | None = None
    otlp_endpoint: str | None = None

    def overrides(self) -> list[Override]:
        found = [Override(path, value, flag) for path, value, flag in self._settings() if value not in (None, [])]
        if self.otlp_endpoint:
            found.append(Override(("tracing", "enabled"), True, "--otlp-endpoint"))
        return found

    def _settings(self) -> list[tuple[tuple[str, ...], Any, str]]:
        mode_flag, mode = ("--mode", self.mode)
        if self.offline or self.realtime:
            mode_flag, mode = ("--offline", "offline") if self.offline else ("--realtime", "live")
        return [
            (("streams",), [_named_source(s) for s in self.source or ()], "--source"),
            (("sinks",), [{"uri": s} for s in self.sink or ()], "--sink"),
            (("triton", "urls"), list(self.triton_url or ()), "--triton-url"),
            (("mode",), mode, mode_flag),
            (("triton", "wire"), self.wire, "--wire"),
            (("triton", "model_repository"), self.model_repository, "--model-repository"),
            (("annotate",), self.annotate, "--annotate"),
            (("metrics", "port"), self.metrics_port, "--metrics-port"),
            (("metrics", "host"), self.metrics_host, "--metrics-host"),
            (("max_frames",), self.max_frames, "--max-frames"),
            (("shard",), self.shard, "--shard"),
            (("delivery", "durability"), self.durability, "--durability"),
            (("delivery", "state_dir"), self.state_dir, "--state-dir"),
            (("tracing", "otlp_endpoint"), self.otlp_endpoint, "--otlp-endpoint"),
        ]


def resolve(config: Path | None, flags: RunFlags, environ: Mapping[str, str]) -> RunConfig:
    """The effective run configuration: defaults < ``config`` < ``environ`` (PITCHSIDE_*) < ``flags``, checked
    once; without any stream the bundled sample clip. Raises ConfigError, one line per problem."""
    sample = Override(("streams",), [{"id": DEFAULT_STREAM_ID, "source": str(DEFAULT_SOURCE)}], "default")
    merged = merge(
        read_toml(config) if config is not None else {},
        [*env_overrides(environ), *flags.overrides()],
        file_label=str(config) if config is not None else "defaults",
        base_dir=config.parent if config is not None else Path("."),
        fallbacks=[sample, *env_fallbacks(environ)],
    )
    return build(merged).validated()


def _named_source(text: str) -> dict[str, str]:
    match = _NAMED_SOURCE.match(text)
    return {"id": match["id"], "source": match["uri"]} if match else {"source": text}
