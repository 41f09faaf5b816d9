"""When a frame decoded by OpenCV/FFmpeg was presented, on the stream's own clock, and where that falls in Unix time.

OpenCV reports ``CAP_PROP_POS_MSEC`` after each read: the frame's presentation timestamp (PTS, so B-frames and
variable frame rates come out right) minus the stream's start time, i.e. counted from the first frame. The
container's own origin is only exposed rounded to the nominal frame period (``CAP_PROP_PTS``, in frame units),
so :class:`ContainerClock` adds that rounded start to the exact offset: a file whose first frame is at 1.5 s on its
container's clock (a camera that started 1.5 s after another on a shared clock, an MPEG-TS stream, a later HLS
segment) gives 1.5 s for it, not 0.
"""

import time
from typing import Final, Protocol

import cv2

EARLIEST_CLOCK_S: Final = 946_684_800.0
"""2000-01-01: a stream that states a wall-clock time before this has an unset clock (RTCP from a camera that
never synchronised), and the statement is ignored."""
_CAP_PROP_PTS: Final[int | None] = getattr(cv2, "CAP_PROP_PTS", None)
"""Absent from older OpenCV builds: timestamps then count from each opening's first frame."""


class Capture(Protocol):
    """What the clock reads from a ``cv2.VideoCapture``."""

    def get(self, prop_id: int) -> float: ...


class ContainerClock:
    """Presentation times of one capture's frames, in seconds on the container's time base.

    A frame with the same timestamp as the one before (a stream without timestamps: every frame says 0) is placed
    one nominal frame period after it. A timestamp that goes back (a discontinuity, an encoder restarted) is kept:
    it is the stream's own time."""

    def __init__(self, capture: Capture, fps: float | None) -> None:
        self._capture = capture
        self._period_s = 1.0 / fps if fps else 0.0
        self._fps = fps
        self._start_s: float | None = None
        self._last: tuple[float, float] | None = None
        """(timestamp reported, time given) of the previous frame."""

    def frame_read(self) -> float:
        """The presentation time of the frame just read; call once after every successful read."""
        since_start_s = max(0.0, self._capture.get(cv2.CAP_PROP_POS_MSEC) / 1e3)
        if self._start_s is None:
            self._start_s = self._container_start(since_start_s)
        reported_s = self._start_s + since_start_s
        given_s = reported_s
        if self._last is not None and reported_s == self._last[0]:
            given_s = self._last[1] + self._period_s
        self._last = (reported_s, given_s)
        return given_s

    def _container_start(self, since_start_s: float) -> float:
        """The container time of the stream's first frame, to the nearest frame period (0 if it is unknown, or
        before 0: an edit list's B-frame delay)."""
        if _CAP_PROP_PTS is None or not self._fps:
            return 0.0
        return max(0.0, self._capture.get(_CAP_PROP_PTS) / self._fps - since_start_s)


def stated_start_time(capture: Capture) -> float | None:
    """Unix time of presentation time 0 as the stream itself states it (FFmpeg's ``start_time_realtime``: an
    RTSP/RTP stream's RTCP sender reports), or None when it states none or an implausible one."""
    usec = capture.get(cv2.CAP_PROP_STREAM_OPEN_TIME_USEC)
    seconds = usec / 1e6
    return seconds if EARLIEST_CLOCK_S <= seconds <= time.time() + 86_400.0 else None
