"""What travels through a stream's frame buffer besides frames."""

from dataclasses import dataclass

from orchestrator.events.model import StreamState
from orchestrator.sources.frame import Frame


@dataclass(frozen=True, slots=True)
class StatusMarker:
    """A change in the source's life cycle, kept in order with the frames around it; never dropped."""

    state: StreamState
    detail: str
    frames_read: int


@dataclass(frozen=True, slots=True)
class UndecodableFrame:
    """A frame the source could not decode: it yields a frame_error event in its place in the order."""

    stream_id: str
    seq: int
    source_ts_s: float
    captured_at: float
    message: str


BufferItem = Frame | StatusMarker | UndecodableFrame
