"""Bounded in-memory stats per stream for progress lines and the end-of-run summary."""

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Final

import numpy as np

WINDOW_SAMPLES: Final = 4096
RATE_WINDOW_S: Final = 5.0


@dataclass
class StreamStats:
    """Counters for the whole run plus the last WINDOW_SAMPLES latencies (bounded memory)."""

    stream_id: str
    frames_read: int = 0
    events: int = 0
    frame_errors: int = 0
    dropped: int = 0
    dropped_by_reason: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    state: str = "starting"
    glass_to_event_ms: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW_SAMPLES))
    inference_ms: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW_SAMPLES))
    _emit_times: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW_SAMPLES))
    started: float = field(default_factory=time.monotonic)

    def record_event(self, glass_to_event_ms: float, inference_ms: float) -> None:
        self.events += 1
        self.glass_to_event_ms.append(glass_to_event_ms)
        self.inference_ms.append(inference_ms)
        self._emit_times.append(time.monotonic())

    def fps(self) -> float:
        """Events per second over the last RATE_WINDOW_S seconds."""
        now = time.monotonic()
        recent = [t for t in self._emit_times if now - t <= RATE_WINDOW_S]
        span = min(RATE_WINDOW_S, now - self.started)
        return len(recent) / span if span > 0 else 0.0

    def average_fps(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.events / elapsed if elapsed > 0 else 0.0

    def percentile(self, q: float) -> float:
        """Glass-to-event latency percentile in ms over the window (nan before the first event)."""
        return float(np.percentile(self.glass_to_event_ms, q)) if self.glass_to_event_ms else float("nan")

    def line(self) -> str:
        return (
            f"{self.stream_id}: {self.state:<12s} {self.fps():5.1f} fps  "
            f"p50 {self.percentile(50):6.1f} ms  p99 {self.percentile(99):6.1f} ms  "
            f"events {self.events}  dropped {self.dropped}  errors {self.frame_errors}"
        )
