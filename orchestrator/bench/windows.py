"""Measurement windows: samples recorded by completion time, sliced into windows, checked for stability."""

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from orchestrator.bench.settings import WindowSettings


@dataclass
class Recorder:
    """Every completed frame's (completion time, latency) and every failure's time, in completion order.

    Times are ``time.perf_counter_ns()``; one recorder belongs to one level and one event loop or thread.
    """

    completed_ns: list[int] = field(default_factory=list)
    latencies_ns: list[int] = field(default_factory=list)
    failed_ns: list[int] = field(default_factory=list)

    def record(self, started_ns: int, finished_ns: int, frames: int = 1) -> None:
        """``frames`` that all took ``finished_ns - started_ns`` (a direct batch completes together)."""
        self.completed_ns.extend([finished_ns] * frames)
        self.latencies_ns.extend([finished_ns - started_ns] * frames)

    def record_failure(self, finished_ns: int) -> None:
        self.failed_ns.append(finished_ns)

    def window(self, start_ns: int, end_ns: int) -> "Window":
        lo, hi = _span(self.completed_ns, start_ns, end_ns)
        failed_lo, failed_hi = _span(self.failed_ns, start_ns, end_ns)
        latencies = np.asarray(self.latencies_ns[lo:hi], dtype=np.int64)
        return Window(start_ns, end_ns, latencies, failed_hi - failed_lo)


@dataclass(frozen=True)
class Window:
    start_ns: int
    end_ns: int
    latencies_ns: npt.NDArray[np.int64]
    """One entry per frame completed inside the window."""
    failures: int
    measured_ns: int | None = None
    """Time actually measured when windows with gaps between them were merged; None: end - start."""

    @property
    def duration_s(self) -> float:
        return (self.end_ns - self.start_ns if self.measured_ns is None else self.measured_ns) / 1e9

    @property
    def throughput(self) -> float:
        """Frames completed per second."""
        return self.latencies_ns.size / self.duration_s

    @property
    def p50_ns(self) -> float:
        return self.latency_ns(50)

    def latency_ns(self, percentile: int | None) -> float:
        """The window's mean latency (``percentile`` None) or its nearest-rank percentile; 0 when empty."""
        if self.latencies_ns.size == 0:
            return 0.0
        if percentile is None:
            return float(self.latencies_ns.mean())
        return float(np.percentile(self.latencies_ns, percentile, method="inverted_cdf"))


def is_stable(windows: Sequence[Window], settings: WindowSettings) -> bool:
    """perf_analyzer's rule: the last ``stable_windows`` windows all completed something, and over them
    max / min of the throughput and max / min of the latency metric (mean, or ``percentile``) are each
    at most 1 + ``stability_pct`` / 100."""
    last = windows[-settings.stable_windows :]
    if len(last) < settings.stable_windows or any(w.latencies_ns.size == 0 for w in last):
        return False
    limit = 1 + settings.stability_pct / 100
    return all(min(v) > 0 and max(v) / min(v) <= limit for v in _series(last, settings.percentile))


def spread_pct(values: Sequence[float]) -> float:
    """(max / min - 1) x 100: how far apart a set of windows' figures are (inf when one is 0)."""
    low, high = min(values), max(values)
    return (high / low - 1.0) * 100.0 if low > 0 else float("inf")


def merge(windows: Sequence[Window]) -> Window:
    """Windows as one; time between them (another measurement ran there) is not counted."""
    return Window(
        windows[0].start_ns,
        windows[-1].end_ns,
        np.concatenate([w.latencies_ns for w in windows]),
        sum(w.failures for w in windows),
        round(sum(w.duration_s for w in windows) * 1e9),
    )


def reported(windows: Sequence[Window], settings: WindowSettings) -> Window:
    """The windows a report states: the last ``stable_windows`` (stable or not, the report says which)."""
    return merge(windows[-settings.stable_windows :])


def _series(windows: Sequence[Window], percentile: int | None) -> tuple[list[float], list[float]]:
    return [w.throughput for w in windows], [w.latency_ns(percentile) for w in windows]


def _span(times: list[int], start_ns: int, end_ns: int) -> tuple[int, int]:
    return bisect.bisect_left(times, start_ns), bisect.bisect_left(times, end_ns)
