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
    wire = "letterbox"                 # or "raw", "jpeg"
    [live]
    staleness_budget_s = 0.5
    [metrics]
    port = 9108
    host = "127.0.0.1"                 # the default; "0.0.0.0" where Prometheus scrapes from outside
    [tracing]                          # OpenTelemetry spans per frame, off by default
    enabled = true
    otlp_endpoint = "http://otel-collector:4318"   # else OTEL_EXPORTER_OTLP_ENDPOINT, else localhost:4318
    service_name = "pitchside"
    sample_ratio = 0.05
"""

import tomllib
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from orchestrator.metrics import ORCHESTRATOR_METRICS_HOST, ORCHESTRATOR_METRICS_PORT
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY, MEDIA_DIR
from orchestrator.pipeline.frame_buffer import DropPolicy
from orchestrator.sinks.settings import Durability
from orchestrator.sources.source_thread import ReconnectPolicy
from orchestrator.sources.spec import SourceSpec, parse_source
from orchestrator.sources.stream_id import InvalidStreamIdError
from orchestrator.tracing.settings import TracingConfigError, TracingSettings
from orchestrator.triton.wire import WireFormat

DEFAULT_SOURCE: Final = MEDIA_DIR / "vtest.avi"
DEFAULT_SINK: Final = "jsonl:out/events.jsonl"
DEFAULT_REQUEST_TIMEOUT_S: Final = 5.0
DEFAULT_STALENESS_BUDGET_S: Final = 0.5
"""Live frames older than this when their turn comes are skipped (Roboflow's InferencePipeline uses 0.5 s)."""
DEFAULT_LIVE_BUFFER: Final = 5
"""Live: room for half a second of a 10 fps camera, so a slow inference is absorbed while the consumer keeps up
(over capacity the freshest frame wins whatever the size, see DropPolicy.DROP_OLDEST)."""
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
LOCAL_JOURNAL_DIR: Final = Path("out/journal")
LOCAL_DEAD_LETTER_PATH: Final = Path("out/dead-letter.jsonl")
"""Without a state directory the journal and dead letters live under ``out/`` beside the config file (or the
working directory): what a laptop run wants, and never a read-only config mount's business."""
STATE_JOURNAL_DIR: Final = "journal"
STATE_DEAD_LETTER: Final = "dead-letter.jsonl"
"""Their names inside a state directory (``[delivery] state_dir``, ``--state-dir``, ``PITCHSIDE_STATE_DIR``)."""
DELIVERY_KEYS: Final = frozenset({"state_dir", "journal_dir", "dead_letter", "durability"})


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
    model: str | None = None
    """None: the wire's own model (``detector`` for letterboxed frames, the ``detection`` ensemble otherwise)."""
    model_repository: Path = DEFAULT_MODEL_REPOSITORY
    wire: WireFormat = WireFormat.LETTERBOX
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
    metrics_host: str = ORCHESTRATOR_METRICS_HOST
    """Address /metrics and /healthz bind; loopback unless configured (e.g. "0.0.0.0" in a pod)."""
    annotate: Path | None = None
    """Write an annotated video (boxes, class, track id) of the first stream here."""
    progress_interval_s: float = 2.0
    journal_dir: Path = LOCAL_JOURNAL_DIR
    dead_letter_path: Path = LOCAL_DEAD_LETTER_PATH
    durability: Durability = Durability.BUFFERED
    """``write_ahead``: an event is in its sink's journal file before it counts as accepted (kill -9 safe)."""
    tracing: TracingSettings = field(default_factory=TracingSettings)

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
        try:
            self.tracing.validated()
        except TracingConfigError as exc:
            raise ConfigError(str(exc)) from None
        return self


@dataclass(frozen=True)
class DeliveryPaths:
    """Where the sinks' journal and the dead-letter file live."""

    journal_dir: Path
    dead_letter_path: Path

    @classmethod
    def resolve(cls, table: dict[str, Any], base_dir: Path, state_dir: Path | None = None) -> "DeliveryPaths":
        """Paths from a ``[delivery]`` table.

        A state directory (``state_dir`` here, overridden by the ``state_dir`` argument from ``--state-dir`` or
        ``PITCHSIDE_STATE_DIR``) holds ``journal/`` and ``dead-letter.jsonl``, and relative ``journal_dir`` and
        ``dead_letter`` values resolve inside it. Without one they resolve against ``base_dir`` (the config
        file's folder) and default to ``out/journal`` and ``out/dead-letter.jsonl``. An absolute value is used
        as it is. A relative ``state_dir`` in the file resolves against ``base_dir``.
        """
        unknown = set(table) - DELIVERY_KEYS
        if unknown:
            raise ConfigError(f"unknown [delivery] settings: {sorted(unknown)}")
        if state_dir is None and "state_dir" in table:
            state_dir = base_dir / str(table["state_dir"])
        if state_dir is None:
            return cls(
                base_dir / table.get("journal_dir", LOCAL_JOURNAL_DIR),
                base_dir / table.get("dead_letter", LOCAL_DEAD_LETTER_PATH),
            )
        return cls(
            state_dir / table.get("journal_dir", STATE_JOURNAL_DIR),
            state_dir / table.get("dead_letter", STATE_DEAD_LETTER),
        )


def load_toml(path: Path, *, state_dir: Path | None = None) -> RunConfig:
    """Parse a TOML config file into a RunConfig (defaults for anything it leaves out).

    ``state_dir`` (from ``--state-dir`` / ``PITCHSIDE_STATE_DIR``) overrides the file's ``[delivery] state_dir``.
    """
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return from_mapping(data, base_dir=path.parent, state_dir=state_dir)


def from_mapping(data: dict[str, Any], base_dir: Path = Path("."), state_dir: Path | None = None) -> RunConfig:
    known = {"mode", "streams", "sinks", "triton", "live", "offline", "metrics", "annotate", "delivery", "tracing"}
    unknown = set(data) - known
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
    paths = DeliveryPaths.resolve(data.get("delivery", {}), base_dir, state_dir)
    return RunConfig(
        streams=streams,
        sinks=sinks,
        triton=triton,
        flow=flow,
        metrics_port=int(metrics.get("port", ORCHESTRATOR_METRICS_PORT)) or None,
        metrics_host=str(metrics.get("host", ORCHESTRATOR_METRICS_HOST)),
        journal_dir=paths.journal_dir,
        dead_letter_path=paths.dead_letter_path,
        durability=_durability(data.get("delivery", {})),
        tracing=_tracing(data.get("tracing", {})),
    )


def _tracing(table: dict[str, Any]) -> TracingSettings:
    allowed = {f.name for f in fields(TracingSettings)}
    unknown = set(table) - allowed
    if unknown:
        raise ConfigError(f"unknown [tracing] settings: {sorted(unknown)}")
    if not isinstance(table.get("enabled", False), bool):
        raise ConfigError(f"[tracing] enabled must be true or false, got {table['enabled']!r}")
    values: dict[str, Any] = dict(table)
    if "sample_ratio" in values:
        values["sample_ratio"] = float(values["sample_ratio"])
    return TracingSettings(**values)


def _durability(table: dict[str, Any]) -> Durability:
    value = table.get("durability", Durability.BUFFERED)
    try:
        return Durability(value)
    except ValueError:
        choices = [str(d) for d in Durability]
        raise ConfigError(f"[delivery] durability must be one of {choices}, got {value!r}") from None


def _stream(entry: dict[str, Any], index: int) -> SourceSpec:
    source = str(_require(entry, "source", f"streams[{index}]"))
    try:
        return parse_source(source, None if entry.get("id") is None else str(entry["id"]))
    except InvalidStreamIdError as exc:
        raise ConfigError(f"streams[{index}]: {exc}") from None


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
