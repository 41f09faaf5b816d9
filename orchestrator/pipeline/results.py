"""What one dispatched buffer item turned into, before the tracker and the event builder."""

from dataclasses import dataclass

from orchestrator.events.model import FrameErrorCode
from orchestrator.sources.frame import Frame
from orchestrator.sources.items import StatusMarker
from orchestrator.triton.detections import Detections


@dataclass(frozen=True, slots=True)
class Inferred:
    frame: Frame
    detections: Detections
    queue_ms: float
    inference_ms: float
    endpoint: str


@dataclass(frozen=True, slots=True)
class Failed:
    stream_id: str
    seq: int
    source_ts_s: float
    captured_at: float
    width: int | None
    height: int | None
    """None when the frame could not be decoded at all."""
    code: FrameErrorCode
    message: str
    source_time: float | None = None
    """Unix time of capture on the source's side, when the source states or anchors one."""
    frame: Frame | None = None
    """The decoded frame, when there was one (the annotated video shows it)."""


@dataclass(frozen=True, slots=True)
class Expired:
    """A live frame Triton dropped from its queue when its staleness budget ran out: a drop, not an error."""

    frame: Frame


Result = Inferred | Failed | Expired | StatusMarker


def failed(frame: Frame, code: FrameErrorCode, message: str) -> Failed:
    height, width = frame.image.shape[:2]
    return Failed(
        frame.stream_id,
        frame.seq,
        frame.source_ts_s,
        frame.captured_at,
        width,
        height,
        code,
        message,
        frame.source_time,
        frame,
    )
