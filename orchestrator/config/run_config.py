"""``pitchside run`` configuration and its TOML form.

Example ``pitchside.toml``::

    mode = "live"                      # or "offline"
    [[streams]]
    id = "north-stand"
    source = "rtsp://cam-north.local/stream1"
    [[sinks]]
    uri = "jsonl:out/events.jsonl"
    [[sinks]]
    uri = "kinesis://match-events?region=eu-west-1"
    [triton]
    urls = ["dns:///triton-grpc.pitchside.svc.cluster.local:8001"]
    wire = "raw"
    [live]
    staleness_budget_s = 0.5
    [metrics]
    port = 9108
"""

import tomllib
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from orchestrator.contract import ENSEMBLE_MODEL
from orchestrator.metrics import ORCHESTRATOR_METRICS_PORT
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY, MEDIA_DIR
from orchestrator.pipeline.frame_buffer import DropPolicy
from orchestrator.sources.source_thread import ReconnectPolicy
from orchestrator.sources.spec import SourceSpec, parse_source
from orchestrator.triton.wire import WireFormat

DEFAULT_SOURCE: Final = MEDIA_DIR / "vtest.avi"
DEFAULT_SINK: Final = "jsonl:out/events.jsonl"
DEFAULT_REQUEST_TIMEOUT_S: Final = 5.0
DEFAULT_STALENESS_BUDGET_S: Final = 0.5
"""Live frames older than this when their turn comes are skipped (Roboflow's InferencePipeline uses 0.5 s)."""
DEFAULT_LIVE_BUFFER: Final = 2
DEFAULT_OFFLINE_BUFFER: Final = 8
DEFAULT_LIVE_IN_FLIGHT: Final = 1
"""Live: one frame per stream at Triton. A second one only waits in Triton's queue, where the staleness budget
cannot drop it: measured with 3 streams over capacity, glass-to-event p50 493 ms with 2, 320 ms with 1, at the
same throughput (docs/PERFORMANCE.md). Streams still batch together at the detector."""
DEFAULT_OFFLINE_IN_FLIGHT: Final = 2
"""Offline: a second frame overlaps transfer and pre/post-processing with the detector, for throughput."""
DEFAULT_TOTAL_IN_FLIGHT: Final = 32
DEFAULT_OUTAGE_TIMEOUT_S: Final = 300.0
"""Offline mode retries a frame through a Triton outage this long before it reports it unavailable."""


class ConfigError(ValueError):
    """A configuration that cannot run; the message names the setting."""


class Mode(StrEnum):
    LIVE = "live"
    """Files are paced at their native fps; buffers drop the oldest frame; stale frames are skipped."""
    OFFLINE = "offline"
    """Every frame as fast as possible, with backpressure and zero drops (network sources stay live)."""


@dataclass(frozen=True)
class TritonSettings:
    urls: tuple[str, ...] = ()
    """gRPC endpoints; empty starts the embedded server on ``model_repository``."""
    model: str = ENSEMBLE_MODEL
    model_repository: Path = DEFAULT_MODEL_REPOSITORY
    wire: WireFormat = WireFormat.RAW
    request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S
    max_in_flight: int = DEFAULT_TOTAL_IN_FLIGHT


@dataclass(frozen=True)
class FlowSettings:
    mode: Mode = Mode.LIVE
    live_buffer_frames: int = DEFAULT_LIVE_BUFFER
    offline_buffer_frames: int = DEFAULT_OFFLINE_BUFFER
    staleness_budget_s: float = DEFAULT_STALENESS_BUDGET_S
    live_in_flight: int = DEFAULT_LIVE_IN_FLIGHT
    offline_in_flight: int = DEFAULT_OFFLINE_IN_FLIGHT
    outage_timeout_s: float = DEFAULT_OUTAGE_TIMEOUT_S
    max_frames: int | None = None
    """Stop each stream after this many frames (demos, smoke tests)."""
    reconnect: ReconnectPolicy = field(default_factory=ReconnectPolicy)

    def policy_for(self, spec: SourceSpec) -> DropPolicy:
        return DropPolicy.DROP_OLDEST if self.is_live(spec) else DropPolicy.BLOCK

    def buffer_for(self, spec: SourceSpec) -> int:
        return self.live_buffer_frames if self.is_live(spec) else self.offline_buffer_frames

    def in_flight_for(self, spec: SourceSpec) -> int:
        return self.live_in_flight if self.is_live(spec) else self.offline_in_flight

    def is_live(self, spec: SourceSpec) -> bool:
        return self.mode is Mode.LIVE or spec.is_live

    def paced(self, spec: SourceSpec) -> bool:
        return self.mode is Mode.LIVE and not spec.is_live


@dataclass(frozen=True)
class Shard:
    """Replica ``index`` of ``count`` takes the streams whose position in the list is ``index`` modulo ``count``."""

    index: int = 0
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> "Shard":
        try:
            index, count = (int(part) for part in text.split("/"))
        except ValueError:
            raise ConfigError(f"shard must look like INDEX/COUNT (e.g. 0/3), got {text!r}") from None
        if not 0 <= index < count:
            raise ConfigError(f"shard index must be within 0..{count - 1}, got {text!r}")
        return cls(index, count)

    def select(self, streams: tuple[SourceSpec, ...]) -> tuple[SourceSpec, ...]:
        return tuple(s for i, s in enumerate(streams) if i % self.count == self.index)


@dataclass(frozen=True)
class RunConfig:
    streams: tuple[SourceSpec, ...] = ()
    sinks: tuple[str, ...] = (DEFAULT_SINK,)
    triton: TritonSettings = field(default_factory=TritonSettings)
    flow: FlowSettings = field(default_factory=FlowSettings)
    metrics_port: int | None = ORCHESTRATOR_METRICS_PORT
    annotate: Path | None = None
    """Write an annotated video (boxes, class, track id) of the first stream here."""
    progress_interval_s: float = 2.0
    journal_dir: Path = Path("out/journal")
    dead_letter_path: Path = Path("out/dead-letter.jsonl")

    def validated(self) -> "RunConfig":
        if not self.streams:
            raise ConfigError("no streams: give --source or [[streams]] in the config file")
        ids = [s.stream_id for s in self.streams]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ConfigError(f"stream ids must be unique, repeated: {duplicates}")
        if not self.sinks:
            raise ConfigError("no sinks: give --sink or [[sinks]] in the config file")
        if self.flow.staleness_budget_s <= 0 or min(self.flow.live_in_flight, self.flow.offline_in_flight) < 1:
            raise ConfigError("staleness_budget_s must be > 0 and live_in_flight, offline_in_flight >= 1")
        return self


def load_toml(path: Path) -> RunConfig:
    """Parse a TOML config file into a RunConfig (defaults for anything it leaves out)."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return from_mapping(data, base_dir=path.parent)


def from_mapping(data: dict[str, Any], base_dir: Path = Path(".")) -> RunConfig:
    unknown = set(data) - {"mode", "streams", "sinks", "triton", "live", "offline", "metrics", "annotate", "delivery"}
    if unknown:
        raise ConfigError(f"unknown top-level settings: {sorted(unknown)}")
    streams = tuple(_stream(entry, i) for i, entry in enumerate(data.get("streams", [])))
    sinks = tuple(str(_require(entry, "uri", "sinks")) for entry in data.get("sinks", [])) or (DEFAULT_SINK,)
    flow = FlowSettings(mode=Mode(data.get("mode", Mode.LIVE)))
    flow = _merge(flow, data.get("live", {}), "live", {"staleness_budget_s", "live_buffer_frames", "live_in_flight"})
    flow = _merge(
        flow, data.get("offline", {}), "offline", {"offline_buffer_frames", "outage_timeout_s", "offline_in_flight"}
    )
    triton = _triton(data.get("triton", {}), base_dir)
    metrics = data.get("metrics", {})
    delivery = data.get("delivery", {})
    return RunConfig(
        streams=streams,
        sinks=sinks,
        triton=triton,
        flow=flow,
        metrics_port=int(metrics.get("port", ORCHESTRATOR_METRICS_PORT)) or None,
        journal_dir=base_dir / delivery.get("journal_dir", "out/journal"),
        dead_letter_path=base_dir / delivery.get("dead_letter", "out/dead-letter.jsonl"),
    )


def _stream(entry: dict[str, Any], index: int) -> SourceSpec:
    source = str(_require(entry, "source", f"streams[{index}]"))
    return parse_source(source, entry.get("id"))


def _triton(table: dict[str, Any], base_dir: Path) -> TritonSettings:
    allowed = {f.name for f in fields(TritonSettings)}
    unknown = set(table) - allowed
    if unknown:
        raise ConfigError(f"unknown [triton] settings: {sorted(unknown)}")
    values: dict[str, Any] = dict(table)
    if "urls" in values:
        values["urls"] = tuple(values["urls"])
    if "wire" in values:
        values["wire"] = WireFormat(values["wire"])
    if "model_repository" in values:
        values["model_repository"] = base_dir / values["model_repository"]
    return TritonSettings(**values)


def _merge(flow: FlowSettings, table: dict[str, Any], name: str, allowed: set[str]) -> FlowSettings:
    unknown = set(table) - allowed
    if unknown:
        raise ConfigError(f"unknown [{name}] settings: {sorted(unknown)}")
    return replace(flow, **table)


def _require(entry: dict[str, Any], key: str, where: str) -> Any:
    if key not in entry:
        raise ConfigError(f"{where}: '{key}' is required")
    return entry[key]
