"""Span timestamps from the pipeline's monotonic readings."""

import time


class WallClock:
    """Monotonic seconds as Unix-epoch nanoseconds, counted from one anchor taken at construction.

    Frames carry ``time.monotonic()`` stamps; reading every span boundary through one anchor keeps a frame's
    spans contiguous and in order even if the system clock is stepped meanwhile.
    """

    def __init__(self) -> None:
        self._wall_ns = time.time_ns()
        self._mono_s = time.monotonic()

    def ns(self, mono_s: float) -> int:
        return self._wall_ns + round((mono_s - self._mono_s) * 1e9)

    def now_ns(self) -> int:
        return self.ns(time.monotonic())
