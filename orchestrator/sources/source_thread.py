"""The thread that reads one source: decode, pace, reconnect, and hand frames to the event loop.

Decoding never runs on the event loop. Each source gets its own thread (a dedicated executor sized to
the number of streams), so a slow or stalled camera cannot starve the others.
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
from orchestrator.pipeline.items import BufferItem, StatusMarker, UndecodableFrame
from orchestrator.sources.capture import FrameDecodeError, FrameReader, SourceError
from orchestrator.sources.frame import Frame
from orchestrator.sources.spec import SourceSpec

log = logging.getLogger(__name__)
_HANDOFF_POLL_S: Final = 0.2


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
            attempt = 0
            self._status(StreamState.STARTED, f"{self._spec.uri} opened ({self._describe(reader)})")
            try:
                finished = self._pump(reader)
            finally:
                reader.close()
            if finished or not self._spec.is_live:
                self._status(StreamState.ENDED, f"{self._seq} frames read")
                return
            attempt = self._wait_to_reconnect(attempt, "stream stalled or disconnected")
        self._status(StreamState.ENDED, f"stopped after {self._seq} frames")

    def _pump(self, reader: FrameReader) -> bool:
        """Read until the source ends (False for a live source: it should come back) or we stop (True)."""
        fps = reader.fps or 0.0
        start_wall, start_mono = time.time(), time.monotonic()
        first_seq = self._seq
        while not self._stop.is_set():
            if self._max_frames is not None and self._seq >= self._max_frames:
                return True
            if self._paced and fps:
                self._sleep_until(start_mono + (self._seq - first_seq) / fps)
            captured_at, began = time.time(), time.perf_counter()
            source_ts = (self._seq - first_seq) / fps if fps else captured_at - start_wall
            try:
                image = reader.read()
            except FrameDecodeError as exc:
                self._hand_off(UndecodableFrame(self._spec.stream_id, self._seq, source_ts, captured_at, str(exc)))
                self._seq += 1
                continue
            if image is None:
                return False
            frame = Frame(
                self._spec.stream_id,
                self._seq,
                image,
                source_ts,
                captured_at,
                time.perf_counter() - began,
                time.monotonic(),
            )
            if not self._hand_off(frame):
                return True
            self._seq += 1
        return True

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
        return f"{reader.fps:.2f} fps" if reader.fps else "no declared fps"
