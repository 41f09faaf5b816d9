"""The ``pitchside.toml`` schema: which settings each table may hold and of which type, checked in one pass.

The models only say what is allowed. They carry no defaults (an absent key stays absent): every default lives
once, as a named constant behind the frozen dataclass the setting ends up in (``run_config.RunConfig`` and the
settings it holds). Strict on purpose: ``"0.5"`` is not a number and ``1`` is not ``true``. The CLI flags and
the environment are merged into the same mapping before it is checked, so they meet the same rules.
"""

from pathlib import PurePath
from typing import Annotated, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator.config.modes import Mode
from orchestrator.sinks.errors import SinkConfigError
from orchestrator.sinks.settings import Durability
from orchestrator.sinks.uri import parse_sink_uri
from orchestrator.sources.spec import NETWORK_SCHEMES, SYNTHETIC_SCHEME, synthetic_params
from orchestrator.triton.wire import WireFormat

VIDEO_SUFFIXES = frozenset({".mp4", ".webm", ".avi", ".mkv", ".mov"})
PositiveFloat = Annotated[float, Field(gt=0)]
PositiveInt = Annotated[int, Field(ge=1)]
# TOML spells an enum as a string: lax for these fields only, so 'offline' becomes Mode.OFFLINE.
ModeSetting = Annotated[Mode | None, Field(strict=False)]
WireSetting = Annotated[WireFormat | None, Field(strict=False)]
DurabilitySetting = Annotated[Durability | None, Field(strict=False)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class LiveTable(_Table):
    staleness_budget_s: PositiveFloat | None = None
    live_buffer_frames: PositiveInt | None = None
    live_in_flight: PositiveInt | None = None


class OfflineTable(_Table):
    offline_buffer_frames: PositiveInt | None = None
    offline_in_flight: PositiveInt | None = None
    outage_timeout_s: PositiveFloat | None = None


class ReconnectTable(_Table):
    """``sources.source_thread.ReconnectPolicy``: how live sources back off between reopen attempts."""

    initial_s: PositiveFloat | None = None
    max_s: PositiveFloat | None = None
    max_attempts: Annotated[int, Field(ge=0)] | None = None
    """0 retries forever."""


class TrackerTable(_Table):
    """``tracking.tracker.TrackerConfig``; its own checks name a value out of range."""

    iou_threshold: float | None = None
    low_iou_threshold: float | None = None
    high_score: float | None = None
    max_age_frames: int | None = None
    min_hits: int | None = None


UnitFloat = Annotated[float, Field(ge=0, le=1)]
# TOML has arrays, not tuples: fixed-length lists.
PitchPoint = Annotated[list[float], Field(min_length=2, max_length=2)]
PitchPair = Annotated[list[float], Field(min_length=4, max_length=4)]
ImageSize = Annotated[list[PositiveInt], Field(min_length=2, max_length=2)]
HomographyRow = Annotated[list[float], Field(min_length=3, max_length=3)]


class PitchTable(_Table):
    """A camera's calibration: ``points`` as [u, v, x_m, y_m] rows (image pixel, pitch metres; >= 4) or a 3x3
    image->pitch ``homography``, for frames of ``image_size`` [width, height]."""

    template: Literal["football", "basketball", "custom"] | None = None
    length_m: PositiveFloat | None = None
    width_m: PositiveFloat | None = None
    image_size: ImageSize
    points: list[PitchPair] | None = None
    homography: Annotated[list[HomographyRow], Field(min_length=3, max_length=3)] | None = None
    zones: dict[str, list[PitchPoint]] | None = None
    """Named polygons in pitch metres, added to the template's own (penalty areas, keys)."""
    ball_classes: list[str] | None = None


class StreamTable(_Table):
    """One ``[[streams]]`` entry; every setting but ``id`` and ``source`` overrides the run-wide one for it."""

    id: str | None = None
    source: str
    mode: ModeSetting = None
    staleness_budget_s: PositiveFloat | None = None
    live_buffer_frames: PositiveInt | None = None
    live_in_flight: PositiveInt | None = None
    offline_buffer_frames: PositiveInt | None = None
    offline_in_flight: PositiveInt | None = None
    outage_timeout_s: PositiveFloat | None = None
    max_frames: PositiveInt | None = None
    reconnect: ReconnectTable | None = None
    tracker: TrackerTable | None = None
    classes: list[str] | None = None
    """Report only these class names (of the model's labels)."""
    score_thresholds: dict[str, UnitFloat] | None = None
    """Class name (or "*" for the rest) -> minimum score, tighter than the server's."""
    max_fps: PositiveFloat | None = None
    pitch: PitchTable | None = None

    @field_validator("source")
    @classmethod
    def _openable(cls, value: str) -> str:
        check_source(value)
        return value


class SinkTable(_Table):
    uri: str

    @field_validator("uri")
    @classmethod
    def _known_sink(cls, value: str) -> str:
        try:
            parse_sink_uri(value)
        except SinkConfigError as exc:
            raise ValueError(str(exc)) from None
        return value


class TritonTable(_Table):
    urls: list[str] | None = None
    model: str | None = None
    model_repository: str | None = None
    wire: WireSetting = None
    request_timeout_s: PositiveFloat | None = None
    max_in_flight: PositiveInt | None = None


class MetricsTable(_Table):
    port: Annotated[int, Field(ge=0, le=65535)] | None = None
    """0 turns the metrics listener off."""
    host: str | None = None


class RetryTable(_Table):
    """``sinks.settings.RetryPolicy``: how the sinks back off between delivery attempts."""

    base_s: PositiveFloat | None = None
    max_s: PositiveFloat | None = None


class DeliveryTable(_Table):
    state_dir: str | None = None
    journal_dir: str | None = None
    dead_letter: str | None = None
    durability: DurabilitySetting = None
    buffer_records: PositiveInt | None = None
    flush_timeout_s: Annotated[float, Field(ge=0)] | None = None
    segment_records: PositiveInt | None = None
    journal_sync_interval_s: PositiveFloat | None = None
    retry: RetryTable | None = None


class TracingTable(_Table):
    enabled: bool | None = None
    otlp_endpoint: str | None = None
    service_name: str | None = None
    sample_ratio: float | None = None


class ConfigFile(_Table):
    """The whole file, and the environment and CLI flags merged over it."""

    mode: ModeSetting = None
    annotate: str | None = None
    """A folder: one annotated video per stream, ``<stream_id>.webm``."""
    max_frames: PositiveInt | None = None
    """Stop each stream after this many frames (demos, smoke tests)."""
    shard: str | None = None
    """INDEX/COUNT: this replica takes every COUNT-th stream from INDEX (``--shard``, ``PITCHSIDE_SHARD``)."""
    progress_interval_s: PositiveFloat | None = None
    streams: list[StreamTable] | None = None
    sinks: list[SinkTable] | None = None
    triton: TritonTable | None = None
    live: LiveTable | None = None
    offline: OfflineTable | None = None
    reconnect: ReconnectTable | None = None
    tracker: TrackerTable | None = None
    metrics: MetricsTable | None = None
    delivery: DeliveryTable | None = None
    tracing: TracingTable | None = None

    @field_validator("annotate")
    @classmethod
    def _a_folder(cls, value: str | None) -> str | None:
        if value is not None and PurePath(value).suffix.lower() in VIDEO_SUFFIXES:
            raise ValueError(f"a folder for one video per stream (DIR/<stream_id>.webm), got the file name {value!r}")
        return value


def check_source(uri: str) -> None:
    """Refuse a source no reader could open whatever the network does: empty, an unknown URL scheme, a
    ``synthetic:`` query that is not numbers. A path that does not exist is left to run time (a missing file
    is a stream that fails with a status event, never a reason to stop the others)."""
    if not uri.strip():
        raise ValueError("expected a path or URL, got an empty string")
    scheme = urlparse(uri).scheme.lower()
    if scheme == SYNTHETIC_SCHEME:
        try:
            synthetic_params(uri)
        except ValueError:
            raise ValueError(f"{uri!r}: synthetic: parameters must be numbers") from None
    elif "://" in uri and scheme not in NETWORK_SCHEMES:
        raise ValueError(f"{uri!r}: unknown scheme {scheme!r} (expected a path or {', '.join(NETWORK_SCHEMES)})")
