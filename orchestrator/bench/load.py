"""Load generators: closed loop (fixed concurrency) and open loop (fixed request rate).

Every request is timed from just before it is sent to just after its response arrives; failures are
counted, never retried. All tasks belong to a TaskGroup that outlives none of them.
"""

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from orchestrator.bench.settings import Arrival
from orchestrator.bench.windows import Recorder
from orchestrator.triton.errors import TritonError

Send = Callable[[int], Awaitable[None]]
"""Sends the request for frame ``i`` (callers wrap ``i`` around their frames); raises TritonError."""

_log = logging.getLogger(__name__)


@dataclass
class LoadCounters:
    sent: int = 0
    skipped: int = 0
    """Open loop only: requests due while ``max_inflight`` were outstanding, dropped unsent."""
    first_error: str | None = None


async def closed_loop(
    send: Send, concurrency: int, recorder: Recorder, stop: asyncio.Event, counters: LoadCounters
) -> None:
    """``concurrency`` workers, each sending its next request as soon as the previous one returns."""
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(_worker(send, recorder, stop, counters))


async def open_loop(
    send: Send,
    rate: float,
    arrival: Arrival,
    max_inflight: int,
    recorder: Recorder,
    stop: asyncio.Event,
    counters: LoadCounters,
    rng: random.Random,
) -> None:
    """Send at ``rate`` per second (constant gaps or Poisson arrivals), however slow the responses."""
    inflight: set[asyncio.Task[None]] = set()
    due = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        while not stop.is_set():
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            if len(inflight) >= max_inflight:
                counters.skipped += 1
            else:
                task = group.create_task(_timed(send, _next_index(counters), recorder, counters))
                inflight.add(task)
                task.add_done_callback(inflight.discard)
            due += _gap(rate, arrival, rng)


async def _worker(send: Send, recorder: Recorder, stop: asyncio.Event, counters: LoadCounters) -> None:
    while not stop.is_set():
        await _timed(send, _next_index(counters), recorder, counters)


async def _timed(send: Send, index: int, recorder: Recorder, counters: LoadCounters) -> None:
    started = time.perf_counter_ns()
    try:
        await send(index)
    except TritonError as exc:  # one failed request must not stop the load; it is counted
        recorder.record_failure(time.perf_counter_ns())
        if counters.first_error is None:
            counters.first_error = str(exc)
            _log.warning("request failed (further failures are only counted): %s", exc)
        return
    recorder.record(started, time.perf_counter_ns())


def _next_index(counters: LoadCounters) -> int:
    index = counters.sent
    counters.sent += 1
    return index


def _gap(rate: float, arrival: Arrival, rng: random.Random) -> float:
    return rng.expovariate(rate) if arrival is Arrival.POISSON else 1.0 / rate
