"""The load generators against a fake sender: this tier checks scheduling and accounting, not speed."""

import asyncio
import random

from orchestrator.bench.load import LoadCounters, closed_loop, open_loop
from orchestrator.bench.settings import Arrival
from orchestrator.bench.windows import Recorder
from orchestrator.triton.errors import InferenceRejectedError


class FakeServer:
    def __init__(self, fail_every: int = 0) -> None:
        self.outstanding = 0
        self.most_outstanding = 0
        self.indices: list[int] = []
        self.fail_every = fail_every
        self.release = asyncio.Event()
        self.release.set()

    async def send(self, index: int) -> None:
        self.indices.append(index)
        self.outstanding += 1
        self.most_outstanding = max(self.most_outstanding, self.outstanding)
        try:
            await asyncio.sleep(0.002)
            await self.release.wait()
            if self.fail_every and index % self.fail_every == 0:
                raise InferenceRejectedError(f"bad frame {index}")
        finally:
            self.outstanding -= 1


async def _run_for(seconds: float, stop: asyncio.Event) -> None:
    await asyncio.sleep(seconds)
    stop.set()


async def test_closed_loop_keeps_exactly_concurrency_requests_outstanding() -> None:
    server, recorder, counters, stop = FakeServer(), Recorder(), LoadCounters(), asyncio.Event()
    async with asyncio.TaskGroup() as group:
        group.create_task(closed_loop(server.send, 3, recorder, stop, counters))
        group.create_task(_run_for(0.1, stop))
    assert server.most_outstanding == 3
    assert counters.sent == len(server.indices) == len(recorder.latencies_ns)
    assert sorted(server.indices) == list(range(counters.sent))


async def test_failures_are_counted_not_timed() -> None:
    server, recorder, counters, stop = FakeServer(fail_every=2), Recorder(), LoadCounters(), asyncio.Event()
    async with asyncio.TaskGroup() as group:
        group.create_task(closed_loop(server.send, 1, recorder, stop, counters))
        group.create_task(_run_for(0.05, stop))
    assert len(recorder.failed_ns) == (counters.sent + 1) // 2
    assert len(recorder.latencies_ns) + len(recorder.failed_ns) == counters.sent
    assert counters.first_error == "bad frame 0"


async def test_open_loop_skips_requests_beyond_max_inflight() -> None:
    server, recorder, counters, stop = FakeServer(), Recorder(), LoadCounters(), asyncio.Event()
    server.release.clear()  # the server stalls: nothing completes
    async with asyncio.TaskGroup() as group:
        group.create_task(open_loop(server.send, 500.0, Arrival.CONSTANT, 4, recorder, stop, counters,
                                    random.Random(1)))  # fmt: skip
        await asyncio.sleep(0.1)
        stop.set()
        server.release.set()
    assert server.most_outstanding == 4 and counters.sent == 4
    assert counters.skipped > 0
    assert len(recorder.latencies_ns) == 4


async def test_open_loop_sends_at_the_rate() -> None:
    server, recorder, counters, stop = FakeServer(), Recorder(), LoadCounters(), asyncio.Event()
    async with asyncio.TaskGroup() as group:
        group.create_task(open_loop(server.send, 100.0, Arrival.POISSON, 64, recorder, stop, counters,
                                    random.Random(7)))  # fmt: skip
        group.create_task(_run_for(0.5, stop))
    assert 20 <= counters.sent <= 100  # a fake server, a loose band: this only catches a broken schedule
    assert counters.skipped == 0 and len(recorder.latencies_ns) == counters.sent
