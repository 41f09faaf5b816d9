"""The bounded buffer between a source thread and inference, with an explicit drop policy."""

import asyncio
import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum
from statistics import median
from typing import Final

from orchestrator.sources.frame import Frame
from orchestrator.sources.items import BufferItem

RATE_WINDOW: Final = 9
"""Arrival and service intervals are the medians of this many recent samples: one slow inference is a burst to
absorb, not a sign of overload; five in a row are."""


class DropPolicy(StrEnum):
    DROP_OLDEST = "drop_oldest"
    """Live. While the consumer keeps up (it takes frames faster than they arrive, on average), frames are
    taken in order: a burst or a slow inference is absorbed by the buffer instead of dropped. Once it does
    not keep up, the freshest frame wins: a taker gets the newest frame and the older ones waiting before it
    are dropped as superseded. Either way a full buffer evicts its oldest frame and a frame older than the
    staleness budget is skipped, so latency cannot creep."""
    BLOCK = "block"
    """Offline: a full buffer makes the source wait; every frame is processed, none dropped."""


class DropReason(StrEnum):
    OVERFLOW = "overflow"
    SUPERSEDED = "superseded"
    STALE = "stale"
    FPS_CAP = "fps_cap"
    """Above the camera's ``max_fps``: not sent to inference by design."""


class FrameBuffer:
    """Holds at most ``capacity`` frames; status markers and decode failures are never dropped."""

    def __init__(
        self,
        capacity: int,
        policy: DropPolicy,
        staleness_budget_s: float | None,
        on_drop: Callable[[Frame, DropReason], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._policy = policy
        self._staleness_s = staleness_budget_s if policy is DropPolicy.DROP_OLDEST else None
        self._on_drop = on_drop
        self._clock = clock
        self._items: deque[BufferItem] = deque()
        self._changed = asyncio.Condition()
        self._closed = False
        self._arrivals: deque[float] = deque(maxlen=RATE_WINDOW)
        """Recent intervals between frames put."""
        self._services: deque[float] = deque(maxlen=RATE_WINDOW)
        """Recent times the consumer spent per frame (from a take to its next get call)."""
        self._last_put: float | None = None
        self._last_take: float | None = None

    @property
    def depth(self) -> int:
        return sum(isinstance(item, Frame) for item in self._items)

    async def put(self, item: BufferItem) -> None:
        """Add ``item``; under BLOCK wait for room, under DROP_OLDEST evict the oldest frame instead."""
        async with self._changed:
            if self._closed:
                raise RuntimeError("put on a closed frame buffer")
            if isinstance(item, Frame):
                self._sample(self._arrivals, self._last_put)
                self._last_put = self._clock()
                await self._make_room()
            self._items.append(item)
            self._changed.notify_all()

    async def get(self) -> BufferItem | None:
        """The next item to process; None once the buffer is closed and empty."""
        self._sample(self._services, self._last_take)
        async with self._changed:
            while True:
                await self._changed.wait_for(lambda: bool(self._items) or self._closed)
                if not self._items:
                    return None
                item = self._take_freshest() if not self._keeping_up() else self._items.popleft()
                self._changed.notify_all()
                if not self._is_stale(item):
                    self._last_take = self._clock()
                    return item

    async def close(self) -> None:
        """No more puts; get() drains what is left, then returns None."""
        async with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _keeping_up(self) -> bool:
        """Live: the consumer spends less per frame than the time between frames, so a backlog drains."""
        if self._policy is not DropPolicy.DROP_OLDEST:
            return True
        return bool(self._services and self._arrivals) and median(self._services) < median(self._arrivals)

    def _sample(self, window: deque[float], since: float | None) -> None:
        if since is not None:
            window.append(self._clock() - since)

    def _take_freshest(self) -> BufferItem:
        """The next item; under DROP_OLDEST a frame with newer frames right behind it yields to the newest."""
        item = self._items.popleft()
        if self._policy is DropPolicy.DROP_OLDEST:
            while isinstance(item, Frame) and self._items and isinstance(self._items[0], Frame):
                self._on_drop(item, DropReason.SUPERSEDED)
                item = self._items.popleft()
        return item

    async def _make_room(self) -> None:
        if self._policy is DropPolicy.BLOCK:
            await self._changed.wait_for(lambda: self.depth < self._capacity)
            return
        while self.depth >= self._capacity:
            oldest = next(item for item in self._items if isinstance(item, Frame))
            self._items.remove(oldest)
            self._on_drop(oldest, DropReason.OVERFLOW)

    def _is_stale(self, item: BufferItem) -> bool:
        if self._staleness_s is None or not isinstance(item, Frame):
            return False
        if self._clock() - item.ready_mono <= self._staleness_s:
            return False
        self._on_drop(item, DropReason.STALE)
        return True
