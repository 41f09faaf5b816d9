"""Progress of a long benchmark and the time it has left: a live bar on a terminal, plain lines elsewhere.

A run is planned in units (measurement windows for ``bench model``, seconds of footage for ``bench pipeline``);
the estimate is the planned units still to come times the time each unit has taken so far. ``bench model``
plans every level's ``max_windows``; a level that turns stable earlier gives its unused windows back, so the
estimate is an upper bound that only shrinks.
"""

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Final, Protocol, TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

LINE_INTERVAL_S: Final = 5.0
"""Plain-line progress prints at most this often for the same step (a log, not an animation)."""


class BenchProgress(Protocol):
    def note(self, message: str) -> None:
        """A one-off message (the server reached, a stage starting)."""

    def plan(self, total: float, unit: str) -> None:
        """The run will take about ``total`` units (windows, seconds)."""

    def advance(self, label: str, amount: float = 1.0) -> None:
        """``amount`` units done; ``label`` says what is running now."""

    def give_back(self, amount: float) -> None:
        """Planned units that will not run (a level was stable before its last window)."""


@dataclass
class Estimate:
    """Units planned and done, and from them the time left."""

    total: float = 0.0
    done: float = 0.0
    unit: str = ""
    started: float = field(default_factory=time.monotonic)

    def remaining_s(self, now: float | None = None) -> float | None:
        """Seconds left at the pace so far; None before the first unit is done."""
        if self.done <= 0:
            return None
        elapsed = (time.monotonic() if now is None else now) - self.started
        return max(0.0, self.total - self.done) * elapsed / self.done

    def count(self) -> str:
        return f"{self.done:g}/{self.total:g} {self.unit}"

    def describe(self) -> str:
        left = self.remaining_s()
        return "estimating time left" if left is None else f"~{format_duration(left)} left"


def format_duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class LineProgress:
    """One line per step to ``stream`` (stderr), at most every LINE_INTERVAL_S while a step repeats."""

    def __init__(self, stream: TextIO) -> None:
        self._stream, self._estimate = stream, Estimate()
        self._last_label, self._last_at = "", 0.0

    def note(self, message: str) -> None:
        print(message, file=self._stream, flush=True)

    def plan(self, total: float, unit: str) -> None:
        self._estimate = Estimate(total=total, unit=unit)

    def advance(self, label: str, amount: float = 1.0) -> None:
        self._estimate.done += amount
        now = time.monotonic()
        if label != self._last_label or now - self._last_at >= LINE_INTERVAL_S:
            self._last_label, self._last_at = label, now
            self.note(f"{label}: {self._estimate.count()}, {self._estimate.describe()}")

    def give_back(self, amount: float) -> None:
        self._estimate.total -= amount


class RichProgress:
    """rich's live bar on the terminal: what runs now, units done of planned, elapsed and time left."""

    def __init__(self, progress: Progress) -> None:
        self._progress, self._estimate = progress, Estimate()
        self._task = progress.add_task("starting", total=None, count="", left="")

    def note(self, message: str) -> None:
        self._progress.console.print(message, markup=False, highlight=False)

    def plan(self, total: float, unit: str) -> None:
        self._estimate = Estimate(total=total, unit=unit)
        self._progress.update(self._task, total=total, completed=0, count=self._estimate.count())

    def advance(self, label: str, amount: float = 1.0) -> None:
        self._estimate.done += amount
        self._progress.update(
            self._task, description=label, advance=amount, count=self._estimate.count(), left=self._estimate.describe()
        )

    def give_back(self, amount: float) -> None:
        self._estimate.total -= amount
        self._progress.update(
            self._task, total=self._estimate.total, count=self._estimate.count(), left=self._estimate.describe()
        )


@contextmanager
def open_progress(stream: TextIO | None = None) -> Iterator[BenchProgress]:
    """A live bar when ``stream`` (default stderr) is a terminal, plain lines otherwise (logs, CI, pipes)."""
    stream = sys.stderr if stream is None else stream
    if not stream.isatty():
        yield LineProgress(stream)
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[count]}"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[left]}"),
    )
    with Progress(*columns, console=Console(file=stream), transient=True) as progress:
        yield RichProgress(progress)
