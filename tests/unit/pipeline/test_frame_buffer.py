import asyncio
import time

import numpy as np
import pytest

from orchestrator.events.model import StreamState
from orchestrator.sources.frame import Frame
from orchestrator.sources.frame_buffer import DropPolicy, DropReason, FrameBuffer
from orchestrator.sources.items import BufferItem, StatusMarker


def frame(seq: int, age_s: float = 0.0) -> Frame:
    return Frame("cam", seq, np.zeros((2, 2, 3), np.uint8), seq / 10, time.time(), 0.0, time.monotonic() - age_s)


class Drops:
    def __init__(self) -> None:
        self.seen: list[tuple[int, DropReason]] = []

    def __call__(self, dropped: Frame, reason: DropReason) -> None:
        self.seen.append((dropped.seq, reason))


async def drain(buffer: FrameBuffer) -> list[int | str]:
    await buffer.close()
    out: list[int | str] = []
    while (item := await buffer.get()) is not None:
        out.append(item.seq if isinstance(item, Frame) else str(item.state))
    return out


async def test_drop_oldest_hands_out_the_freshest_frame_and_counts_drops() -> None:
    drops = Drops()
    buffer = FrameBuffer(2, DropPolicy.DROP_OLDEST, 10.0, drops)
    for seq in range(5):
        await buffer.put(frame(seq))
    assert await drain(buffer) == [4]
    assert drops.seen == [
        (0, DropReason.OVERFLOW), (1, DropReason.OVERFLOW), (2, DropReason.OVERFLOW), (3, DropReason.SUPERSEDED)
    ]  # fmt: skip


async def test_a_taker_keeps_up_then_nothing_is_dropped() -> None:
    drops = Drops()
    buffer = FrameBuffer(2, DropPolicy.DROP_OLDEST, 10.0, drops)
    taken = []
    for seq in range(4):
        await buffer.put(frame(seq))
        item = await buffer.get()
        assert isinstance(item, Frame)
        taken.append(item.seq)
    assert taken == [0, 1, 2, 3] and drops.seen == []


async def test_stale_frames_are_skipped_in_live_mode() -> None:
    drops = Drops()
    buffer = FrameBuffer(4, DropPolicy.DROP_OLDEST, 0.5, drops)
    await buffer.put(frame(0, age_s=2.0))
    assert await drain(buffer) == []
    assert drops.seen == [(0, DropReason.STALE)]


async def test_block_policy_makes_the_producer_wait_and_drops_nothing() -> None:
    drops = Drops()
    buffer = FrameBuffer(2, DropPolicy.BLOCK, 0.5, drops)
    await buffer.put(frame(0, age_s=5.0))  # staleness does not apply offline
    await buffer.put(frame(1))
    third = asyncio.create_task(buffer.put(frame(2)))
    await asyncio.sleep(0.05)
    assert not third.done(), "a full BLOCK buffer must hold the producer back"
    first = await buffer.get()
    await asyncio.wait_for(third, 1.0)
    assert first is not None and isinstance(first, Frame) and first.seq == 0
    assert await drain(buffer) == [1, 2]
    assert drops.seen == []


async def test_status_markers_are_never_dropped_nor_counted_against_capacity() -> None:
    drops = Drops()
    buffer = FrameBuffer(1, DropPolicy.DROP_OLDEST, 10.0, drops)
    await buffer.put(StatusMarker(StreamState.STARTED, "opened", 0))
    await buffer.put(frame(0))
    await buffer.put(frame(1))
    await buffer.put(StatusMarker(StreamState.ENDED, "done", 2))
    assert await drain(buffer) == ["started", 1, "ended"]
    assert drops.seen == [(0, DropReason.OVERFLOW)]


async def test_put_after_close_is_an_error() -> None:
    buffer = FrameBuffer(1, DropPolicy.BLOCK, None, Drops())
    await buffer.close()
    with pytest.raises(RuntimeError):
        await buffer.put(frame(0))


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def frame_at(seq: int, clock: Clock) -> Frame:
    return Frame("cam", seq, np.zeros((2, 2, 3), np.uint8), seq / 10, time.time(), 0.0, clock.now)


async def live_stream(service_s: float, spike_s: float) -> tuple[list[int], list[tuple[int, DropReason]]]:
    """Frames every 100 ms for 2 s, to a consumer that spends ``service_s`` on each (``spike_s`` on frame 5) and
    asks for the next one as soon as it is done, as the stream's dispatcher does. The clock jumps from event to
    event, so the outcome does not depend on this machine's speed."""
    clock, drops, taken = Clock(), Drops(), []
    buffer = FrameBuffer(5, DropPolicy.DROP_OLDEST, 0.5, drops, clock)
    start, free_at = clock.now, clock.now
    asking: asyncio.Task[BufferItem | None] | None = None

    async def answered() -> bool:
        nonlocal asking, free_at
        await asyncio.sleep(0)
        if asking is None or not asking.done():
            return False
        item = asking.result()
        assert isinstance(item, Frame)
        taken.append(item.seq)
        free_at, asking = clock.now + (spike_s if item.seq == 5 else service_s), None
        return True

    for seq in range(20):
        arrival = start + seq * 0.1
        while asking is None and free_at <= arrival:  # done before this frame arrives: it asks for the next
            clock.now = free_at
            asking = asyncio.create_task(buffer.get())
            await answered()
        clock.now = arrival
        await buffer.put(frame_at(seq, clock))
        await answered()
    if asking is not None:
        asking.cancel()
    return taken, drops.seen


async def test_with_capacity_to_spare_a_slow_frame_delays_the_next_ones_but_drops_none() -> None:
    taken, dropped = await live_stream(service_s=0.04, spike_s=0.35)
    assert dropped == []
    assert taken == list(range(20)), "the backlog after the 350 ms frame is worked off in order"


async def test_over_capacity_the_freshest_frame_still_wins() -> None:
    taken, dropped = await live_stream(service_s=0.25, spike_s=0.25)
    assert {reason for _, reason in dropped} == {DropReason.SUPERSEDED}
    assert taken == sorted(taken)
    assert len(taken) < 12, "about one frame in 2.5 gets through, and it is the newest waiting"
