"""``pitchside run`` configuration: one frozen, typed object built at the edge, and its TOML form.

Settings come from the defaults (the named constants here and in the settings each part owns), a TOML file,
the environment (``PITCHSIDE_*``) and the command line, merged into one mapping in that order and checked once
(``config.schema``): an unknown key or a value of the wrong type is refused with one line naming its key path.
``pitchside config check FILE`` checks a file; ``pitchside config show`` prints the effective configuration.

Example ``pitchside.toml`` (every table is optional)::

    mode = "live"                      # or "offline"
    annotate = "out/videos"            # one annotated video per stream: out/videos/<stream_id>.webm
    [[streams]]
    id = "north-stand"
    source = "rtsp://cam-north.local/stream1"
    staleness_budget_s = 0.3           # per stream: any [live]/[offline] setting, max_frames, mode,
    [streams.tracker]                  #   [streams.reconnect] and [streams.tracker] override the run's
    max_age_frames = 60
    [[streams]]                        # a calibrated camera with its own classes, thresholds and fps cap
    id = "main-stand"
    source = "rtsp://cam-main.local/stream1"
    classes = ["person", "sports ball"]
    score_thresholds = {"person" = 0.5, "*" = 0.4}
    max_fps = 25.0
    [streams.pitch]                    # image -> pitch: >= 4 [u, v, x_m, y_m] pairs, or homography = [[...] x 3]
    template = "football"              # 105 x 68 m; "basketball" 28 x 15 m; "custom" with length_m, width_m
    image_size = [1920, 1080]
    points = [[312, 1020, 0.0, 0.0], [1608, 1020, 105.0, 0.0], [1320, 180, 105.0, 68.0], [600, 180, 0.0, 68.0]]
    zones = {centre_circle_box = [[43.0, 25.0], [62.0, 25.0], [62.0, 43.0], [43.0, 43.0]]}
    [[sinks]]
    uri = "jsonl:out/events.jsonl"
    [[sinks]]
    uri = "kinesis://match-events?region=eu-west-1"
    [triton]
    urls = ["dns:///triton-grpc.pitchside.svc.cluster.local:8001"]
    wire = "letterbox"                 # or "raw", "jpeg"
    request_timeout_s = 10.0
    [live]
    staleness_budget_s = 0.5
    [reconnect]                        # live sources: jittered exponential backoff between reopen attempts
    initial_s = 0.5
    max_s = 30.0
    max_attempts = 0                   # 0 retries forever
    [tracker]
    iou_threshold = 0.2
    max_age_frames = 30
    [metrics]
    port = 9108
    host = "127.0.0.1"                 # the default; "0.0.0.0" where Prometheus scrapes from outside
    [delivery]
    state_dir = "/var/lib/pitchside"   # journal/ and dead-letter.jsonl; else out/ beside this file
    durability = "buffered"            # or "write_ahead"
    buffer_records = 10000
    [delivery.retry]
    base_s = 0.05
    max_s = 5.0
    [tracing]                          # OpenTelemetry spans per frame, off by default
    enabled = true
    otlp_endpoint = "http://otel-collector:4318"   # else OTEL_EXPORTER_OTLP_ENDPOINT, else localhost:4318
    service_name = "pitchside"
    sample_ratio = 0.05
"""

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, TypeVar

from pydantic import ValidationError

from orchestrator.config.camera import NO_CAMERA_SETTINGS, CameraSettings, camera_settings
from orchestrator.config.layers import Merged, Override, merge, read_toml
from orchestrator.config.modes import Mode as Mode
from orchestrator.config.problems import ConfigError as ConfigError
from orchestrator.config.problems import Location, key_path, problem_lines
from orchestrator.config.schema import ConfigFile, StreamTable
from orchestrator.metrics import ORCHESTRATOR_METRICS_HOST, ORCHESTRATOR_METRICS_PORT
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY, MEDIA_DIR
from orchestrator.sinks.errors import SinkConfigError
from orchestrator.sinks.settings import DeliverySettings, Durability, RetryPolicy
from orchestrator.sources.frame_buffer import DropPolicy
from orchestrator.sources.source_thread import ReconnectPolicy
from orchestrator.sources.spec import SourceSpec, parse_source
from orchestrator.tracing.settings import TracingConfigError, TracingSettings
from orchestrator.tracking.tracker import TrackerConfig
from orchestrator.triton.client import DEFAULT_REQUEST_TIMEOUT_S
from orchestrator.triton.wire import WireFormat

DEFAULT_SOURCE: Final = MEDIA_DIR / "vtest.avi"
DEFAULT_SINK: Final = "jsonl:out/events.jsonl"
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
DELIVERY_PATH_KEYS: Final = frozenset({"state_dir", "journal_dir", "dead_letter"})
DEFAULT_PROGRESS_INTERVAL_S: Final = 2.0
CAMERA_KEYS: Final = frozenset({"classes", "score_thresholds", "max_fps", "pitch"})
NOT_FLOW_KEYS: Final = frozenset({"id", "source", "reconnect", "tracker"}) | CAMERA_KEYS
LOCAL_DELIVERY: Final = DeliverySettings(journal_dir=LOCAL_JOURNAL_DIR, dead_letter_path=LOCAL_DEAD_LETTER_PATH)


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
class StreamSettings:
    """One stream's own flow and tracker settings, where its ``[[streams]]`` entry overrides the run's, and its
    camera settings (classes, thresholds, fps cap, calibration)."""

    flow: FlowSettings
    tracker: TrackerConfig
    camera: CameraSettings = NO_CAMERA_SETTINGS


@dataclass(frozen=True)
class RunConfig:
    streams: tuple[SourceSpec, ...] = ()
    sinks: tuple[str, ...] = (DEFAULT_SINK,)
    triton: TritonSettings = field(default_factory=TritonSettings)
    flow: FlowSettings = field(default_factory=FlowSettings)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    per_stream: tuple[tuple[str, StreamSettings], ...] = ()
    """Streams whose settings differ from the run's, by stream id (see ``flow_for``, ``tracker_for``)."""
    metrics_port: int | None = ORCHESTRATOR_METRICS_PORT
    metrics_host: str = ORCHESTRATOR_METRICS_HOST
    """Address /metrics and /healthz bind; loopback unless configured (e.g. "0.0.0.0" in a pod)."""
    annotate: Path | None = None
    """A folder: one annotated video per stream, ``<stream_id>.webm`` (boxes, track ids, the pitch radar)."""
    progress_interval_s: float = DEFAULT_PROGRESS_INTERVAL_S
    delivery: DeliverySettings = field(default_factory=lambda: LOCAL_DELIVERY)
    """Every sink's buffer, journal, retries and dead letters; ``durability`` ``write_ahead`` puts an event in
    its sink's journal file before it counts as accepted (kill -9 safe)."""
    tracing: TracingSettings = field(default_factory=TracingSettings)

    @property
    def journal_dir(self) -> Path:
        return self.delivery.journal_dir

    @property
    def dead_letter_path(self) -> Path:
        return self.delivery.dead_letter_path

    @property
    def durability(self) -> Durability:
        return self.delivery.durability

    def flow_for(self, spec: SourceSpec) -> FlowSettings:
        own = dict(self.per_stream).get(spec.stream_id)
        return self.flow if own is None else own.flow

    def tracker_for(self, spec: SourceSpec) -> TrackerConfig:
        own = dict(self.per_stream).get(spec.stream_id)
        return self.tracker if own is None else own.tracker

    def camera_for(self, spec: SourceSpec) -> CameraSettings:
        own = dict(self.per_stream).get(spec.stream_id)
        return NO_CAMERA_SETTINGS if own is None else own.camera

    def validated(self) -> "RunConfig":
        if not self.streams:
            raise ConfigError("no streams: give --source or [[streams]] in the config file")
        ids = [s.stream_id for s in self.streams]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ConfigError(f"stream ids must be unique, repeated: {duplicates}")
        if not self.sinks:
            raise ConfigError("no sinks: give --sink or [[sinks]] in the config file")
        flows = [self.flow, *(s.flow for _, s in self.per_stream)]
        if any(f.staleness_budget_s <= 0 or min(f.live_in_flight, f.offline_in_flight) < 1 for f in flows):
            raise ConfigError("staleness_budget_s must be > 0 and live_in_flight, offline_in_flight >= 1")
        try:
            self.tracing.validated()
        except TracingConfigError as exc:
            raise ConfigError(str(exc)) from None
        return self


def load_toml(path: Path, *, state_dir: Path | None = None) -> RunConfig:
    """A TOML config file as a RunConfig (defaults for anything it leaves out); raises ConfigError.

    ``state_dir`` (from ``--state-dir`` / ``PITCHSIDE_STATE_DIR``) overrides the file's ``[delivery] state_dir``.
    """
    return from_mapping(read_toml(path), base_dir=path.parent, state_dir=state_dir, file_label=str(path))


def from_mapping(
    data: Mapping[str, Any],
    base_dir: Path = Path("."),
    state_dir: Path | None = None,
    *,
    file_label: str = "config",
) -> RunConfig:
    overrides = [] if state_dir is None else [Override(("delivery", "state_dir"), str(state_dir), "--state-dir")]
    return build(merge(data, overrides, file_label=file_label, base_dir=base_dir))


def build(merged: Merged) -> RunConfig:
    """The merged settings checked once and turned into a RunConfig; raises ConfigError, one line a problem."""
    try:
        checked = ConfigFile.model_validate(merged.data)
    except ValidationError as exc:
        raise ConfigError(problem_lines(exc, merged.origin_of, ConfigFile)) from None
    problems: list[str] = []
    config = _Builder(merged, checked, problems).run_config()
    if problems or config is None:
        raise ConfigError(problems)
    return config


T = TypeVar("T")


class _Builder:
    """Turns the checked tables into the dataclasses; a value a dataclass refuses becomes a problem line."""

    def __init__(self, merged: Merged, checked: ConfigFile, problems: list[str]) -> None:
        self._merged = merged
        self._file = checked
        self._problems = problems

    def run_config(self) -> RunConfig | None:
        file = self._file
        flow = self._make(("reconnect",), lambda: self._flow(file))
        tracker = self._make(("tracker",), lambda: TrackerConfig(**_table(file.tracker)))
        streams = tuple(self._stream(i, entry) for i, entry in enumerate(file.streams or ()))
        per_stream = self._per_stream(file.streams or (), streams, flow, tracker)
        shard = None if file.shard is None else self._make(("shard",), lambda: Shard.parse(str(file.shard)))
        delivery = self._make(("delivery",), self._delivery)
        tracing = self._make(("tracing",), lambda: TracingSettings(**_table(file.tracing)).validated())
        triton = self._triton()
        if flow is None or tracker is None or delivery is None or tracing is None or per_stream is None:
            return None
        if None in streams:
            return None
        chosen = tuple(s for s in streams if s is not None)
        if shard is not None:
            chosen = shard.select(chosen)
        metrics = _table(file.metrics)
        annotate = None if file.annotate is None else self._merged.base_for("annotate") / file.annotate
        return RunConfig(
            streams=chosen,
            sinks=tuple(s.uri for s in file.sinks) if file.sinks else (DEFAULT_SINK,),
            triton=triton,
            flow=flow,
            tracker=tracker,
            per_stream=tuple((k, v) for k, v in (per_stream or {}).items() if k in {s.stream_id for s in chosen}),
            metrics_port=metrics.get("port", ORCHESTRATOR_METRICS_PORT) or None,
            metrics_host=metrics.get("host", ORCHESTRATOR_METRICS_HOST),
            annotate=annotate,
            progress_interval_s=file.progress_interval_s or DEFAULT_PROGRESS_INTERVAL_S,
            delivery=delivery,
            tracing=tracing,
        )

    def _make(self, loc: Location, make: Callable[[], T]) -> T | None:
        try:
            return make()
        except (ValueError, SinkConfigError, TracingConfigError) as exc:
            message = str(exc).removeprefix(f"[{key_path(loc)}] ")
            self._problems.append(f"{self._merged.origin_of(loc)}: {key_path(loc)}: {message}")
            return None

    @staticmethod
    def _flow(file: ConfigFile) -> FlowSettings:
        values = {**_table(file.live), **_table(file.offline)}
        if file.mode is not None:
            values["mode"] = file.mode
        if file.max_frames is not None:
            values["max_frames"] = file.max_frames
        return FlowSettings(reconnect=_reconnect(ReconnectPolicy(), _table(file.reconnect)), **values)

    def _stream(self, index: int, entry: StreamTable) -> SourceSpec | None:
        return self._make(("streams", index), lambda: parse_source(entry.source, entry.id))

    def _per_stream(
        self,
        entries: Any,
        streams: tuple[SourceSpec | None, ...],
        flow: FlowSettings | None,
        tracker: TrackerConfig | None,
    ) -> dict[str, StreamSettings] | None:
        if flow is None or tracker is None:
            return None
        found: dict[str, StreamSettings] = {}
        for index, (entry, spec) in enumerate(zip(entries, streams, strict=True)):
            values = entry.model_dump(exclude_none=True, exclude=NOT_FLOW_KEYS)
            if spec is None or not (values or entry.reconnect or entry.tracker or _has_camera(entry)):
                continue
            own = self._make(("streams", index), functools.partial(_stream_settings, entry, values, flow, tracker))
            if own is None:
                return None
            found[spec.stream_id] = own
        return found

    def _triton(self) -> TritonSettings:
        values = _table(self._file.triton)
        if "urls" in values:
            values["urls"] = tuple(values["urls"])
        if "model_repository" in values:
            values["model_repository"] = (
                self._merged.base_for("triton", "model_repository") / values["model_repository"]
            )
        return TritonSettings(**values)

    def _delivery(self) -> DeliverySettings:
        values = _table(self._file.delivery)
        paths = _delivery_paths(values, self._merged)
        retry = values.pop("retry", {})
        return DeliverySettings(
            journal_dir=paths[0],
            dead_letter_path=paths[1],
            retry=RetryPolicy(**retry),
            **{k: v for k, v in values.items() if k not in DELIVERY_PATH_KEYS},
        )


def _stream_settings(
    entry: StreamTable, values: dict[str, Any], flow: FlowSettings, tracker: TrackerConfig
) -> StreamSettings:
    own_flow = replace(flow, reconnect=_reconnect(flow.reconnect, _table(entry.reconnect)), **values)
    return StreamSettings(own_flow, replace(tracker, **_table(entry.tracker)), camera_settings(entry))


def _has_camera(entry: StreamTable) -> bool:
    return any(getattr(entry, key) is not None for key in CAMERA_KEYS)


def _delivery_paths(table: dict[str, Any], merged: Merged) -> tuple[Path, Path]:
    """Where the journal and the dead-letter file live.

    A state directory (``[delivery] state_dir``, ``--state-dir``, ``PITCHSIDE_STATE_DIR``) holds ``journal/``
    and ``dead-letter.jsonl``, and relative ``journal_dir`` and ``dead_letter`` values resolve inside it.
    Without one they resolve against the config file's folder and default to ``out/journal`` and
    ``out/dead-letter.jsonl``. An absolute value is used as it is. A relative ``state_dir`` in the file
    resolves against the file's folder; given on the command line or in the environment, against the working
    directory.
    """
    if "state_dir" not in table:
        base = merged.base_for("delivery")
        return (
            base / table.get("journal_dir", LOCAL_JOURNAL_DIR),
            base / table.get("dead_letter", LOCAL_DEAD_LETTER_PATH),
        )
    state_dir = merged.base_for("delivery", "state_dir") / table["state_dir"]
    return (
        state_dir / table.get("journal_dir", STATE_JOURNAL_DIR),
        state_dir / table.get("dead_letter", STATE_DEAD_LETTER),
    )


def _reconnect(base: ReconnectPolicy, table: dict[str, Any]) -> ReconnectPolicy:
    policy = replace(base, **table)
    if policy.max_s < policy.initial_s:
        raise ValueError(f"max_s ({policy.max_s}) must be at least initial_s ({policy.initial_s})")
    return policy


def _table(table: Any) -> dict[str, Any]:
    """A checked table's settings that were given (absent ones keep the dataclass defaults)."""
    return {} if table is None else dict(table.model_dump(exclude_none=True))
