import asyncio
import time

import numpy as np
import pytest

from orchestrator.events.model import StreamState
from orchestrator.pipeline.frame_buffer import DropPolicy, DropReason, FrameBuffer
from orchestrator.pipeline.items import StatusMarker
from orchestrator.sources.frame import Frame


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
