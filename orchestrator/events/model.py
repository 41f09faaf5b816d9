"""Event messages and their JSON form (schema ``pitchside.event/v1``, see event.schema.json)."""

import json
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

SCHEMA_VERSION: Final = "pitchside.event/v1"
SCHEMA_PATH: Final = Path(__file__).with_name("event.schema.json")
_NAMESPACE: Final = uuid.UUID("6f6e1d2a-8f0e-4b8e-9a57-70697463687e")


class EventType(StrEnum):
    DETECTIONS = "detections"
    FRAME_ERROR = "frame_error"
    STATUS = "status"
    ZONE = "zone"


class StreamState(StrEnum):
    STARTED = "started"
    RECONNECTING = "reconnecting"
    ENDED = "ended"
    FAILED = "failed"


class FrameErrorCode(StrEnum):
    REJECTED = "rejected"
    """Triton refused the frame (bad data); retrying cannot help."""
    UNAVAILABLE = "unavailable"
    """No Triton endpoint answered before the frame's deadline (live mode) or the retry budget ran out."""
    FAILED = "failed"
    """The server accepted the frame but failed to process it."""


class ZoneTransition(StrEnum):
    ENTER = "enter"
    LEAVE = "leave"


@dataclass(frozen=True, slots=True)
class PitchPoint:
    """Where a detection stands on the pitch of a calibrated camera."""

    x_m: float
    y_m: float
    """This detection's own position (foot point, or the ball's centre) in metres in the pitch template's frame:
    origin at one corner, x along its length, y across its width."""
    on_pitch: bool
    """Inside the template's outline (with a small margin for feet on the line)."""
    track_x_m: float
    track_y_m: float
    """The track's smoothed position (what zones are decided on)."""
    speed_m_s: float
    """The track's smoothed speed over the pitch; 0 on a track's first frame."""


@dataclass(frozen=True, slots=True)
class TrackedDetection:
    box_xyxy: tuple[float, float, float, float]
    """x1, y1, x2, y2 in source-frame pixels."""
    score: float
    class_id: int
    class_name: str
    track_id: int
    pitch: PitchPoint | None = None
    """None when the stream has no calibration."""


@dataclass(frozen=True, slots=True)
class StageLatency:
    """Milliseconds spent per stage of one frame."""

    decode_ms: float
    queue_ms: float
    inference_ms: float
    """Round trip to Triton, including pre/post-processing on the server and any retries."""
    glass_to_event_ms: float
    """From the frame's capture (decode start) to the event's emission."""


@dataclass(frozen=True, slots=True)
class FrameContext:
    """What every per-frame event says about its frame."""

    stream_id: str
    run_id: str
    frame_seq: int
    source_ts_s: float
    """Presentation time of the frame on the source's own media clock (the container's PTS), in seconds."""
    captured_at: float
    """Unix time the frame was captured: the source's stated capture time, else when its decode started."""
    width: int | None
    height: int | None
    """None for a frame that could not be decoded."""
    source_time: float | None = None
    """Unix time of capture on the source's side (stated, or anchored for a live stream); None if unknown."""


@dataclass(frozen=True, slots=True)
class ModelRef:
    """The Triton model and version that answered, as Triton itself reported them."""

    name: str
    version: str


@dataclass(frozen=True, slots=True)
class DetectionEvent:
    frame: FrameContext
    detections: tuple[TrackedDetection, ...]
    latency: StageLatency
    emitted_at: float
    model: ModelRef


@dataclass(frozen=True, slots=True)
class FrameErrorEvent:
    frame: FrameContext
    code: FrameErrorCode
    message: str
    emitted_at: float


@dataclass(frozen=True, slots=True)
class StatusEvent:
    stream_id: str
    run_id: str
    frame_seq: int
    """Frames read from the source so far: the status sits between those frames' events and the next."""
    state: StreamState
    detail: str
    emitted_at: float
    status_seq: int = 0
    """Count of earlier status events of this stream in this run: keeps each status's event_id distinct."""


@dataclass(frozen=True, slots=True)
class ZoneEvent:
    """A track entered or left a named zone of the pitch on this frame (emitted right after the frame's event)."""

    frame: FrameContext
    zone: str
    track_id: int
    transition: ZoneTransition
    emitted_at: float


Event = DetectionEvent | FrameErrorEvent | StatusEvent | ZoneEvent


def event_id(stream_id: str, run_id: str, kind: str, frame_seq: int) -> str:
    """Deterministic id: every retry or re-delivery of the same event carries the same id."""
    return str(uuid.uuid5(_NAMESPACE, f"{stream_id}\x1f{run_id}\x1f{kind}\x1f{frame_seq}"))


def to_json_dict(event: Event) -> dict[str, Any]:
    """The event as the JSON object described by event.schema.json."""
    if isinstance(event, StatusEvent):
        kind = f"{EventType.STATUS}:{event.status_seq}"
        return {
            **_envelope(EventType.STATUS, event.stream_id, event.run_id, kind, event.frame_seq, event.emitted_at),
            "state": str(event.state),
            "detail": event.detail,
        }
    body = _frame_body(event.frame)
    if isinstance(event, ZoneEvent):
        kind = f"{EventType.ZONE}:{event.zone}:{event.track_id}:{event.transition}"
        envelope = _envelope(
            EventType.ZONE, event.frame.stream_id, event.frame.run_id, kind, event.frame.frame_seq, event.emitted_at
        )
        return {
            **envelope,
            **body,
            "zone": {"name": event.zone, "track_id": event.track_id, "transition": str(event.transition)},
        }
    if isinstance(event, FrameErrorEvent):
        envelope = _envelope(
            EventType.FRAME_ERROR,
            event.frame.stream_id,
            event.frame.run_id,
            "frame",
            event.frame.frame_seq,
            event.emitted_at,
        )
        return {**envelope, **body, "error": {"code": str(event.code), "message": event.message}}
    envelope = _envelope(
        EventType.DETECTIONS,
        event.frame.stream_id,
        event.frame.run_id,
        "frame",
        event.frame.frame_seq,
        event.emitted_at,
    )
    return {
        **envelope,
        **body,
        "detections": [_detection(d, event.frame) for d in event.detections],
        "model": {"name": event.model.name, "version": event.model.version},
        "latency_ms": {
            "decode": round(event.latency.decode_ms, 3),
            "queue": round(event.latency.queue_ms, 3),
            "inference": round(event.latency.inference_ms, 3),
            "glass_to_event": round(event.latency.glass_to_event_ms, 3),
        },
    }


def to_json_bytes(event: Event) -> bytes:
    """One line of compact UTF-8 JSON, no trailing newline."""
    return json.dumps(to_json_dict(event), separators=(",", ":"), ensure_ascii=False).encode()


def _envelope(
    kind: EventType, stream_id: str, run_id: str, id_kind: str, seq: int, emitted_at: float
) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "type": str(kind),
        "event_id": event_id(stream_id, run_id, id_kind, seq),
        "stream_id": stream_id,
        "run_id": run_id,
        "frame_seq": seq,
        "emitted_at": emitted_at,
    }


def _frame_body(frame: FrameContext) -> dict[str, Any]:
    body: dict[str, Any] = {"source_ts": round(frame.source_ts_s, 6), "captured_at": frame.captured_at}
    if frame.source_time is not None:
        body["source_time"] = round(frame.source_time, 6)
    if frame.width is not None and frame.height is not None:
        body["frame_size"] = {"width": frame.width, "height": frame.height}
    return body


def _detection(d: TrackedDetection, frame: FrameContext) -> dict[str, Any]:
    x1, y1, x2, y2 = d.box_xyxy
    width, height = frame.width or 1, frame.height or 1
    out: dict[str, Any] = {
        "box_xyxy": [round(x1, 2), round(y1, 2), round(x2, 2), round(y2, 2)],
        "box_norm": [round(x1 / width, 6), round(y1 / height, 6), round(x2 / width, 6), round(y2 / height, 6)],
        "score": round(d.score, 5),
        "class_id": d.class_id,
        "class_name": d.class_name,
        "track_id": d.track_id,
    }
    if d.pitch is not None:
        out["pitch"] = {
            "x_m": round(d.pitch.x_m, 3),
            "y_m": round(d.pitch.y_m, 3),
            "on_pitch": d.pitch.on_pitch,
            "track_xy_m": [round(d.pitch.track_x_m, 3), round(d.pitch.track_y_m, 3)],
            "speed_m_s": round(d.pitch.speed_m_s, 3),
        }
    return out
