"""One load level measured through Triton and directly, in alternating rounds.

A round is one window through Triton (load started, warmed up, measured, stopped and drained) followed
by one window of the direct baseline in a worker thread while the server is idle. Alternating keeps
both measurements under the same background load on a shared machine, so their ratio stays meaningful
when the absolute numbers drift. Rounds repeat until both sides' last ``stable_windows`` agree (or
``max_windows`` rounds have run).
"""

import asyncio
import itertools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import reduce

from orchestrator.bench.cpu import CpuSample, CpuUsage, sample_cpu, usage_between
from orchestrator.bench.direct import BatchTiming, DirectPipeline
from orchestrator.bench.generic_client import GenericTritonClient
from orchestrator.bench.levels import DirectLevel, ServerLevel, WindowsOutcome
from orchestrator.bench.load import LoadCounters, Send, closed_loop, open_loop
from orchestrator.bench.server_stats import ModelCounters, Snapshot, diff
from orchestrator.bench.settings import LoadMode, LoadSettings, WindowSettings
from orchestrator.bench.stages import Stage
from orchestrator.bench.windows import Recorder, Window, is_stable, reported

RANDOM_SEED = 20240611
STATS_SETTLE_READS = 20
STATS_SETTLE_PAUSE_S = 0.05
"""Poisson arrivals are drawn from a fixed seed so two runs send the same schedule."""


@dataclass(frozen=True)
class Boundary:
    """The start or end of a window: its time, the CPU counters and (through Triton) the server's counters."""

    at_ns: int
    cpu: CpuSample
    server: Snapshot = field(default_factory=dict)


@dataclass(frozen=True)
class ServerTarget:
    client: GenericTritonClient
    models: tuple[str, ...]
    """The benchmarked model first, then its composing models: whose statistics are read."""
    send: Send


@dataclass(frozen=True)
class DirectPlan:
    pipeline: DirectPipeline
    batch_size: int


@dataclass
class _Side:
    """One side's windows so far and the boundaries each was measured between."""

    recorder: Recorder = field(default_factory=Recorder)
    windows: list[Window] = field(default_factory=list)
    spans: list[tuple[Boundary, Boundary]] = field(default_factory=list)

    def add(self, start: Boundary, end: Boundary) -> None:
        self.windows.append(self.recorder.window(start.at_ns, end.at_ns))
        self.spans.append((start, end))

    def outcome(self, settings: WindowSettings) -> WindowsOutcome:
        last = self.spans[-settings.stable_windows :]
        return WindowsOutcome(
            reported(self.windows, settings),
            len(self.windows),
            is_stable(self.windows, settings),
            _mean_cpu(last),
            tuple(self.windows[-settings.stable_windows :]),
        )


async def measure_level(
    target: ServerTarget,
    load: LoadSettings,
    level: float,
    settings: WindowSettings,
    direct: DirectPlan | None,
    on_round: Callable[[], None] | None = None,
) -> tuple[ServerLevel, DirectLevel | None]:
    """Alternate Triton and direct windows at ``level`` until both are stable or ``max_windows`` rounds ran;
    ``on_round`` is called after each round (progress)."""
    served, counters, rng = _Side(), LoadCounters(), random.Random(RANDOM_SEED)
    baseline, timings = _Side(), _StageRecorder()
    runner = None if direct is None else _direct_runner(direct, baseline.recorder, timings)
    before = await target.client.statistics(target.models)
    while not _done(served, baseline if runner else None, settings):
        served.add(*await _server_window(target, load, level, served.recorder, counters, rng, settings))
        if runner is not None:
            baseline.add(*await asyncio.to_thread(_direct_window, runner, settings))
        if on_round is not None:
            on_round()
    after = await _settled_statistics(target)
    server = _server_level(served, counters, level, diff(after, before), settings)
    if direct is None:
        return server, None
    return server, DirectLevel(
        direct.batch_size,
        baseline.outcome(settings),
        timings.mean_ms(baseline.spans[-settings.stable_windows :], direct.pipeline.stages),
    )


def measure_direct_level(pipeline: DirectPipeline, batch_size: int, settings: WindowSettings) -> DirectLevel:
    """The direct baseline alone, window after window (blocking): for modes that run it once, e.g. batch 1."""
    side, timings = _Side(), _StageRecorder()
    runner = _direct_runner(DirectPlan(pipeline, batch_size), side.recorder, timings)
    _run_until(runner, time.perf_counter_ns() + int(settings.warmup_s * 1e9))
    while not _done(side, None, settings):
        side.add(*_direct_window(runner, settings))
    return DirectLevel(
        batch_size, side.outcome(settings), timings.mean_ms(side.spans[-settings.stable_windows :], pipeline.stages)
    )


def _done(served: _Side, baseline: _Side | None, settings: WindowSettings) -> bool:
    if len(served.windows) >= settings.max_windows:
        return True
    return is_stable(served.windows, settings) and (baseline is None or is_stable(baseline.windows, settings))


async def _server_window(
    target: ServerTarget,
    load: LoadSettings,
    level: float,
    recorder: Recorder,
    counters: LoadCounters,
    rng: random.Random,
    settings: WindowSettings,
) -> tuple[Boundary, Boundary]:
    """Start the load, let it settle for ``warmup_s``, measure ``window_s``, then stop and drain it."""
    stop = asyncio.Event()
    async with asyncio.TaskGroup() as group:
        group.create_task(_generate(target.send, load, level, recorder, stop, counters, rng))
        await asyncio.sleep(settings.warmup_s)
        start = await _server_boundary(target)
        await asyncio.sleep(max(0.0, settings.window_s - (time.perf_counter_ns() - start.at_ns) / 1e9))
        end = await _server_boundary(target)
        stop.set()
    return start, end


async def _generate(
    send: Send,
    load: LoadSettings,
    level: float,
    recorder: Recorder,
    stop: asyncio.Event,
    counters: LoadCounters,
    rng: random.Random,
) -> None:
    if load.mode is LoadMode.CONCURRENCY:
        await closed_loop(send, int(level), recorder, stop, counters)
    else:
        await open_loop(send, level, load.arrival, load.max_inflight, recorder, stop, counters, rng)


async def _settled_statistics(target: ServerTarget) -> Snapshot:
    """Statistics once they stop moving: Triton records an ensemble's counters just after it has sent the
    response, so a read right after the last response can miss the last request."""
    latest = await target.client.statistics(target.models)
    for _ in range(STATS_SETTLE_READS):
        await asyncio.sleep(STATS_SETTLE_PAUSE_S)
        again = await target.client.statistics(target.models)
        if again == latest:
            return again
        latest = again
    return latest


async def _server_boundary(target: ServerTarget) -> Boundary:
    at_ns, cpu = time.perf_counter_ns(), sample_cpu()
    return Boundary(at_ns, cpu, await target.client.statistics(target.models))


def _server_level(
    side: _Side, counters: LoadCounters, level: float, totals: dict[str, ModelCounters], settings: WindowSettings
) -> ServerLevel:
    windows = [diff(end.server, start.server) for start, end in side.spans[-settings.stable_windows :]]
    server = {name: reduce(ModelCounters.plus, (w[name] for w in windows)) for name in windows[0]}
    return ServerLevel(
        level,
        side.outcome(settings),
        server,
        totals,
        counters.sent,
        len(side.recorder.latencies_ns),
        len(side.recorder.failed_ns),
        counters.skipped,
        counters.first_error,
    )


def _direct_window(run: Callable[[], None], settings: WindowSettings) -> tuple[Boundary, Boundary]:
    """One batch to settle caches after the server's turn, then ``window_s`` of batches back to back."""
    run()
    start = Boundary(time.perf_counter_ns(), sample_cpu())
    _run_until(run, start.at_ns + int(settings.window_s * 1e9))
    return start, Boundary(time.perf_counter_ns(), sample_cpu())


def _run_until(run: Callable[[], None], due_ns: int) -> None:
    while time.perf_counter_ns() < due_ns:
        run()


def _direct_runner(plan: DirectPlan, recorder: Recorder, timings: "_StageRecorder") -> Callable[[], None]:
    batches = _batches(len(plan.pipeline.tensors), plan.batch_size)

    def run() -> None:
        indices = next(batches)
        started = time.perf_counter_ns()
        timing = plan.pipeline.run_batch(indices)
        finished = time.perf_counter_ns()
        recorder.record(started, finished, frames=len(indices))
        timings.add(finished, timing)

    return run


def _batches(frames: int, batch_size: int) -> "itertools.cycle[list[int]]":
    """Consecutive frames in batches, wrapping around the footage (as the server sees them)."""
    order = [i % frames for i in range(batch_size * frames)]
    return itertools.cycle([order[i : i + batch_size] for i in range(0, len(order), batch_size)])


def _mean_cpu(spans: Sequence[tuple[Boundary, Boundary]]) -> CpuUsage:
    usages = [usage_between(start.cpu, end.cpu) for start, end in spans]
    machine = [u.machine_busy_pct for u in usages if u.machine_busy_pct is not None]
    return CpuUsage(sum(u.process_pct for u in usages) / len(usages), sum(machine) / len(machine) if machine else None)


@dataclass
class _StageRecorder:
    samples: list[tuple[int, BatchTiming]] = field(default_factory=list)

    def add(self, finished_ns: int, timing: BatchTiming) -> None:
        self.samples.append((finished_ns, timing))

    def mean_ms(self, spans: Sequence[tuple[Boundary, Boundary]], stages: tuple[Stage, ...]) -> dict[Stage, float]:
        chosen = [t for at, t in self.samples if any(s.at_ns <= at < e.at_ns for s, e in spans)]
        chosen = chosen or [t for _, t in self.samples[-1:]]
        return {stage: sum(t.stage_ns[stage] for t in chosen) / len(chosen) / 1e6 for stage in stages}
