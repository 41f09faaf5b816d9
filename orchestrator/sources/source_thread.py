"""The thread that reads one source: decode, pace, reconnect, and hand frames to the event loop.

Decoding never runs on the event loop. Each source gets its own thread (a dedicated executor sized to
the number of streams), so a slow or stalled camera cannot starve the others.

Live network sources are paced by their own timestamps: a burst (an HLS segment downloaded at once) is handed
on at the rate it was captured, not dumped into the live buffer where newer frames would supersede it. A recording
replayed live is paced by its own timestamps too (a variable-frame-rate file plays at its real timing), against
a fixed clock like a camera's: a frame handed on late is late, the replay does not slow down (PacingClock). A
source that has ended is ENDED, not reconnected; a stalled one is reconnected with a backoff that resets only
once the source delivers new frames again; after a reconnect, frames at or before the last one emitted (by the
reader's absolute position) are skipped, never emitted twice.

A frame's ``source_ts`` is the reader's media timestamp (the container's PTS) when it reports one, else its
index over the declared frame rate; its ``source_time`` is the reader's wall-clock placement, when it has one.
"""

import asyncio
import concurrent.futures
import logging
import random
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Final

from orchestrator.events.model import StreamState
from orchestrator.sources.capture import (
    CaptureClock,
    FrameDecodeError,
    FrameReader,
    FrameTiming,
    SourceError,
    TimedFrameReader,
)
from orchestrator.sources.frame import Frame
from orchestrator.sources.items import BufferItem, StatusMarker, UndecodableFrame
from orchestrator.sources.spec import SourceSpec

log = logging.getLogger(__name__)
_HANDOFF_POLL_S: Final = 0.2
MAX_PACING_GAP_S: Final = 1.0
"""Consecutive frames further apart than this on the media clock (or going back) are a discontinuity: pacing
starts afresh from that frame instead of waiting out the gap."""
MAX_REPLAY_GAP_S: Final = 10.0
"""A recording replayed live waits out a pause between frames up to this long (a camera that froze, a
variable-rate file that recorded nothing for a while); a longer jump, or time going back, is a broken or
concatenated file: the replay's clock starts afresh from that frame."""
PACING_SLACK_S: Final = 0.05
"""A frame this late for its paced time starts a new anchor: lateness never accumulates into a burst."""


@dataclass(slots=True)
class PacingClock:
    """When each frame is due, on the monotonic clock: at its media time after the anchor frame's. The first frame,
    time going back or a jump over ``max_gap_s`` anchors the clock afresh at that frame (``restarted``).

    Live network sources (``PacingClock.live()``): early frames (a segment downloaded at once, an encoder catching
    up) wait for their time, so a burst reaches the buffer at the rate it was captured; a frame more than
    PACING_SLACK_S late (the source's clock runs slow, or we fell behind) restarts the clock too, rather than
    releasing a catch-up burst.

    Recordings replayed live (``PacingClock.replay(fps)``): a fixed clock like a camera's (late stays late), pauses
    up to MAX_REPLAY_GAP_S waited out. A live camera's frame is decoded after it arrives, so the replay reads
    (decodes) a frame when it ``expected()`` it: one step after the previous frame, the step between the last two
    (constant for a constant-rate file, so the decode starts on time as a camera's would); a frame of a
    variable-rate file that turns out to be due later is then held until its time."""

    max_gap_s: float
    restart_when_late: bool
    step: float = 0.0
    """The last gap between frames, seconds (at first: the declared frame period, or 0)."""
    anchor: tuple[float, float] | None = None
    """(media ts, monotonic) the due times count from."""
    previous_ts: float | None = None
    restarted: bool = False
    """Whether the last frame anchored the clock afresh (it is handed on at once)."""

    @classmethod
    def live(cls) -> "PacingClock":
        return cls(MAX_PACING_GAP_S, restart_when_late=True)

    @classmethod
    def replay(cls, fps: float) -> "PacingClock":
        return cls(MAX_REPLAY_GAP_S, restart_when_late=False, step=1.0 / fps if fps else 0.0)

    def expected(self) -> float | None:
        """When the next frame is expected to be due (start reading it then); None before the first frame."""
        if self.anchor is None or self.previous_ts is None:
            return None
        return self.anchor[1] + self.previous_ts + self.step - self.anchor[0]

    def due(self, media_ts: float, now: float) -> float:
        """The due time of a frame at ``media_ts`` seen at ``now`` (monotonic: when its read began, for a replay)."""
        gap = None if self.previous_ts is None else media_ts - self.previous_ts
        if self.anchor is None or gap is None or not 0.0 <= gap <= self.max_gap_s:
            self.anchor, self.restarted = (media_ts, now), True
        else:
            self.step, self.restarted = gap, False
        self.previous_ts = media_ts
        due = self.anchor[1] + (media_ts - self.anchor[0])
        if self.restart_when_late and due < now - PACING_SLACK_S:
            self.anchor, self.restarted, due = (media_ts, now), True, now
        return due


@dataclass(frozen=True, slots=True)
class _Pumped:
    """How one opening of a source went."""

    stopped: bool
    """stop() was called or max_frames reached."""
    ended: bool
    """The source itself ended (not a stall)."""
    new_frames: int


@dataclass(frozen=True)
class ReconnectPolicy:
    """Exponential backoff with full jitter for live sources; ``max_attempts`` 0 retries forever."""

    initial_s: float = 0.5
    max_s: float = 30.0
    max_attempts: int = 0

    def delay(self, attempt: int) -> float:
        return random.uniform(0.0, min(self.max_s, self.initial_s * 2.0**attempt))

    def gives_up(self, attempt: int) -> bool:
        return self.max_attempts > 0 and attempt >= self.max_attempts


class SourceThread:
    """Reads ``spec`` until it ends, fails for good, or ``stop()`` is called; see ``run``."""

    def __init__(
        self,
        spec: SourceSpec,
        open_reader: Callable[[SourceSpec], FrameReader],
        put: Callable[[BufferItem], Coroutine[Any, Any, None]],
        loop: asyncio.AbstractEventLoop,
        *,
        paced: bool,
        reconnect: ReconnectPolicy,
        max_frames: int | None = None,
    ) -> None:
        self._spec = spec
        self._open = open_reader
        self._put = put
        self._loop = loop
        self._paced = paced
        self._reconnect = reconnect
        self._max_frames = max_frames
        self._stop = threading.Event()
        self._seq = 0
        self._last_position: tuple[int, ...] | None = None

    def stop(self) -> None:
        self._stop.set()

    @property
    def frames_read(self) -> int:
        return self._seq

    def run(self) -> None:
        """Blocking: the thread's body. Emits STARTED/RECONNECTING/ENDED/FAILED markers in order with frames."""
        attempt = 0
        while not self._stop.is_set():
            try:
                reader = self._open(self._spec)
            except SourceError as exc:
                if not self._spec.is_live or self._reconnect.gives_up(attempt):
                    self._status(StreamState.FAILED, str(exc))
                    return
                attempt = self._wait_to_reconnect(attempt, str(exc))
                continue
            self._status(StreamState.STARTED, f"{self._spec.uri} opened ({self._describe(reader)})")
            try:
                pumped = self._pump(reader)
            finally:
                reader.close()
            if pumped.new_frames:
                attempt = 0  # the backoff starts afresh only once the source really delivered again
            if pumped.stopped or not self._spec.is_live:
                self._status(StreamState.ENDED, f"{self._seq} frames read")
                return
            if pumped.ended:
                self._status(StreamState.ENDED, f"end of stream after {self._seq} frames")
                return
            if self._reconnect.gives_up(attempt):
                self._status(StreamState.FAILED, f"no new frames after {attempt} reconnects")
                return
            attempt = self._wait_to_reconnect(attempt, "stream stalled or disconnected")
        self._status(StreamState.ENDED, f"stopped after {self._seq} frames")

    def _pump(self, reader: FrameReader) -> _Pumped:
        """Read until the source ends or stalls, or we stop."""
        fps = reader.fps or 0.0
        start_wall, start_mono = time.time(), time.monotonic()
        first_seq = self._seq
        timed = reader if isinstance(reader, TimedFrameReader) else None
        live = PacingClock.live() if self._spec.is_live and timed is not None else None
        replay = PacingClock.replay(fps) if self._paced and timed is not None else None
        ts_shift = 0.0  # how far the media clock runs ahead of the frame count (a container starting at 1.5 s)
        while not self._stop.is_set():
            if self._max_frames is not None and self._seq >= self._max_frames:
                return _Pumped(True, False, self._seq - first_seq)
            if replay is not None and (expected := replay.expected()) is not None:
                self._sleep_until(expected)
            elif self._paced and fps and replay is None:  # a reader without timestamps: by its declared rate
                self._sleep_until(start_mono + (self._seq - first_seq) / fps)
            captured_at, began, read_started = time.time(), time.perf_counter(), time.monotonic()
            counted_ts = (self._seq - first_seq) / fps if fps else captured_at - start_wall
            source_ts = counted_ts + ts_shift  # an undecodable frame keeps its place on the media clock
            try:
                image = reader.read()
            except FrameDecodeError as exc:
                self._hand_off(UndecodableFrame(self._spec.stream_id, self._seq, source_ts, captured_at, str(exc)))
                self._seq += 1
                continue
            decode_s = time.perf_counter() - began
            if image is None:
                return _Pumped(False, timed is not None and timed.finished, self._seq - first_seq)
            timing = None if timed is None else timed.timing
            if timing is not None and self._already_emitted(timing):
                continue
            if timing is not None and live is not None:
                due = live.due(timing.media_ts_s, time.monotonic())
                if not live.restarted:
                    self._sleep_until(due)
            if timing is not None and replay is not None:
                captured_at = self._replay(replay, timing.media_ts_s, read_started, decode_s)
            source_time = None
            if timing is not None:
                source_ts, source_time = timing.media_ts_s, timing.source_time  # the stream's own timestamps
                ts_shift = source_ts - counted_ts
                if timing.captured_at is not None:
                    captured_at = timing.captured_at  # the source's own capture clock (HLS PROGRAM-DATE-TIME)
            frame = Frame(
                self._spec.stream_id, self._seq, image, source_ts, captured_at, decode_s, time.monotonic(), source_time
            )
            if not self._hand_off(frame):
                return _Pumped(True, False, self._seq - first_seq)
            if timing is not None and timing.position is not None:
                self._last_position = timing.position
            self._seq += 1
        return _Pumped(True, False, self._seq - first_seq)

    def _replay(self, replay: PacingClock, media_ts: float, read_started: float, decode_s: float) -> float:
        """Hold a replayed frame until it is due; returns its capture time (Unix) as a camera's would be: its due
        time, less whatever of its decode ran before that time (a camera's frame is decoded only after it
        arrives), so that glass-to-event counts the decode as for a live source."""
        due = replay.due(media_ts, read_started)
        self._sleep_until(due)
        decoded_early = min(decode_s, max(0.0, due - read_started))
        return time.time() - (time.monotonic() - due) - decoded_early

    def _already_emitted(self, timing: FrameTiming) -> bool:
        """A frame a reopened source delivers again (at or before the last position emitted)."""
        last = self._last_position
        return timing.position is not None and last is not None and timing.position <= last

    def _hand_off(self, item: BufferItem) -> bool:
        """Put ``item`` into the stream's buffer on the event loop; blocks while a BLOCK buffer is full."""
        future = asyncio.run_coroutine_threadsafe(self._put(item), self._loop)
        while True:
            try:
                future.result(timeout=_HANDOFF_POLL_S)
                return True
            except concurrent.futures.TimeoutError:
                if self._stop.is_set() or self._loop.is_closed():
                    future.cancel()
                    return False

    def _status(self, state: StreamState, detail: str) -> None:
        log.info("stream %s %s: %s", self._spec.stream_id, state, detail)
        self._hand_off(StatusMarker(state, detail, self._seq))

    def _wait_to_reconnect(self, attempt: int, reason: str) -> int:
        delay = self._reconnect.delay(attempt)
        self._status(StreamState.RECONNECTING, f"{reason}; attempt {attempt + 1} in {delay:.1f} s")
        self._stop.wait(delay)
        return attempt + 1

    def _sleep_until(self, due_mono: float) -> None:
        remaining = due_mono - time.monotonic()
        if remaining > 0:
            self._stop.wait(remaining)

    @staticmethod
    def _describe(reader: FrameReader) -> str:
        """Its rate, and which clock its frames' captured_at and glass-to-event count from (said once per
        opening, in the STARTED status event, so a reader of the feed knows what the latency means)."""
        rate = f"{reader.fps:.2f} fps" if reader.fps else "no declared fps"
        clock = reader.capture_clock if isinstance(reader, TimedFrameReader) else CaptureClock.REPLAY
        return f"{rate}; capture clock: {clock}"
