"""A camera's fps cap: which frames go to inference, by the frames' own timestamps."""

from dataclasses import dataclass
from typing import Final

SLACK: Final = 0.25
"""Share of a period a frame may come early and still be taken: timestamps jitter (rounded PTS, 29.97 fps)."""


@dataclass
class FpsCap:
    """Admits at most ``max_fps`` frames per second of source time (every frame when None), spread evenly: a
    30 fps camera capped at 10 sends every third frame."""

    max_fps: float | None
    _due_s: float | None = None

    def admits(self, source_ts_s: float) -> bool:
        if self.max_fps is None:
            return True
        period = 1.0 / self.max_fps
        if self._due_s is not None and source_ts_s < self._due_s - SLACK * period:
            return False
        on_schedule = self._due_s is not None and source_ts_s - self._due_s < period
        self._due_s = (self._due_s if on_schedule and self._due_s is not None else source_ts_s) + period
        return True
