"""What a frame reader is: the protocol every source implements, the optional timing it may report, its errors."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt


class SourceError(Exception):
    """The source cannot be opened or read; the message says which and why."""


class FrameDecodeError(Exception):
    """One frame could not be decoded; the source itself goes on."""


class CaptureClock(StrEnum):
    """Which clock a frame's ``captured_at`` (and so its glass-to-event latency) is read from."""

    SOURCE = "source"
    """The source's own capture clock (HLS EXT-X-PROGRAM-DATE-TIME): true glass-to-event."""
    ARRIVAL = "arrival"
    """When pitchside began decoding the frame: the source states no capture time, so glass-to-event leaves out
    whatever the camera, encoder and network took before that."""
    REPLAY = "replay"
    """A file or image replayed: when its turn came (its pacing due time, or when it was read offline)."""


@dataclass(frozen=True, slots=True)
class FrameTiming:
    """Where the last frame read sits in its source, as far as the source says."""

    media_ts_s: float
    """Its presentation time on the source's media clock, seconds: the container's PTS in its own time base
    (see :mod:`orchestrator.sources.media_clock`). Becomes the frame's ``source_ts``; pacing uses differences."""
    position: tuple[int, ...] | None
    """Its absolute place in the source, comparable across reopenings of the same source (a file's frame index, an
    HLS media sequence number and index); None when a reopened source starts a new, unrelated count (RTSP)."""
    captured_at: float | None
    """Unix time the source's own clock says it was captured (HLS EXT-X-PROGRAM-DATE-TIME); None if unstated."""
    anchored_at: float | None = None
    """Unix time placed by an anchor taken at the stream's first frame when no capture time is stated per frame:
    the wall-clock time the stream states for its presentation time 0 (RTSP/RTP sender reports), else the arrival
    of its first frame; then the stream's own PTS since. None for recordings (files, finished playlists)."""

    @property
    def source_time(self) -> float | None:
        """Unix time of capture on the source's side: stated if the source states it, else anchored, else None."""
        return self.captured_at if self.captured_at is not None else self.anchored_at


class FrameReader(Protocol):
    @property
    def fps(self) -> float | None:
        """Native frame rate when the source declares one."""

    def read(self) -> npt.NDArray[np.uint8] | None:
        """The next (H, W, 3) uint8 BGR frame, None at the end (or, for a live source, on a stall)."""

    def close(self) -> None: ...


@runtime_checkable
class TimedFrameReader(FrameReader, Protocol):
    """A reader that also says whether a None from ``read`` was the end, and where each frame sits."""

    @property
    def finished(self) -> bool:
        """After ``read`` returned None: True when the source has ended (end of file, HLS ENDLIST), False when a
        live source stalled or dropped and should be reconnected."""

    @property
    def timing(self) -> FrameTiming | None:
        """Timing of the frame ``read`` returned last (None before the first, or when the source has none)."""

    @property
    def capture_clock(self) -> CaptureClock:
        """The clock its frames' capture times come from (SOURCE only if ``timing.captured_at`` is set)."""
