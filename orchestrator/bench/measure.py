"""One load level measured through Triton (async) and directly (in a worker thread), window by window."""

import asyncio
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from orchestrator.bench.cpu import CpuSample, sample_cpu, usage_between
from orchestrator.bench.direct import BatchTiming, DirectPipeline
from orchestrator.bench.generic_client import GenericTritonClient
from orchestrator.bench.levels import DirectLevel, ServerLevel, WindowsOutcome
from orchestrator.bench.load import LoadCounters, Send, closed_loop, open_loop
from orchestrator.bench.server_stats import Snapshot, diff
from orchestrator.bench.settings import LoadMode, LoadSettings, WindowSettings
from orchestrator.bench.stages import Stage
from orchestrator.bench.windows import Recorder, Window, is_stable, reported

RANDOM_SEED = 20240611
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


async def measure_server_level(
    target: ServerTarget, load: LoadSettings, level: float, settings: WindowSettings
) -> ServerLevel:
    """Run ``load`` at ``level`` through Triton until the windows are stable or ``max_windows`` have passed."""
    recorder, counters, stop = Recorder(), LoadCounters(), asyncio.Event()
    before = await target.client.statistics(target.models)
    async with asyncio.TaskGroup() as group:
        group.create_task(_generate(target.send, load, level, recorder, stop, counters))
        windows, boundaries = await _observe(target, recorder, settings)
        stop.set()
    after = await target.client.statistics(target.models)
    first, last = boundaries[-1 - min(len(windows), settings.stable_windows)], boundaries[-1]
    return ServerLevel(
        level, _outcome(windows, first, last, settings), diff(last.server, first.server), diff(after, before),
        counters.sent, len(recorder.latencies_ns), len(recorder.failed_ns), counters.skipped, counters.first_error,
    )  # fmt: skip


def measure_direct_level(pipeline: DirectPipeline, batch_size: int, settings: WindowSettings) -> DirectLevel:
    """Run ``pipeline`` on batches of ``batch_size`` back to back, windowed like the server levels. Blocking."""
    recorder, timings = Recorder(), _StageRecorder()
    batches = _batches(len(pipeline.tensors), batch_size)
    run = _direct_runner(pipeline, batches, recorder, timings)
    _run_until(run, time.perf_counter_ns() + int(settings.warmup_s * 1e9), at_least_once=True)
    windows, boundaries = _direct_windows(run, recorder, settings)
    first, last = boundaries[-1 - min(len(windows), settings.stable_windows)], boundaries[-1]
    return DirectLevel(
        batch_size, _outcome(windows, first, last, settings), timings.mean_ms(first.at_ns, last.at_ns, pipeline.stages)
    )


async def _generate(
    send: Send, load: LoadSettings, level: float, recorder: Recorder, stop: asyncio.Event, counters: LoadCounters
) -> None:
    if load.mode is LoadMode.CONCURRENCY:
        await closed_loop(send, int(level), recorder, stop, counters)
    else:
        rng = random.Random(RANDOM_SEED)
        await open_loop(send, level, load.arrival, load.max_inflight, recorder, stop, counters, rng)


async def _observe(
    target: ServerTarget, recorder: Recorder, settings: WindowSettings
) -> tuple[list[Window], list[Boundary]]:
    await asyncio.sleep(settings.warmup_s)
    boundaries = [await _server_boundary(target)]
    windows: list[Window] = []
    while len(windows) < settings.max_windows and not is_stable(windows, settings):
        due_ns = boundaries[0].at_ns + int((len(windows) + 1) * settings.window_s * 1e9)
        await asyncio.sleep(max(0.0, (due_ns - time.perf_counter_ns()) / 1e9))
        boundaries.append(await _server_boundary(target))
        windows.append(recorder.window(boundaries[-2].at_ns, boundaries[-1].at_ns))
    return windows, boundaries


async def _server_boundary(target: ServerTarget) -> Boundary:
    at_ns, cpu = time.perf_counter_ns(), sample_cpu()
    return Boundary(at_ns, cpu, await target.client.statistics(target.models))


def _direct_windows(
    run: Callable[[], None], recorder: Recorder, settings: WindowSettings
) -> tuple[list[Window], list[Boundary]]:
    boundaries = [Boundary(time.perf_counter_ns(), sample_cpu())]
    windows: list[Window] = []
    while len(windows) < settings.max_windows and not is_stable(windows, settings):
        due_ns = boundaries[0].at_ns + int((len(windows) + 1) * settings.window_s * 1e9)
        _run_until(run, due_ns, at_least_once=False)
        boundaries.append(Boundary(due_ns, sample_cpu()))
        windows.append(recorder.window(boundaries[-2].at_ns, due_ns))
    return windows, boundaries


def _run_until(run: Callable[[], None], due_ns: int, at_least_once: bool) -> None:
    if at_least_once:
        run()
    while time.perf_counter_ns() < due_ns:
        run()


def _direct_runner(
    pipeline: DirectPipeline, batches: "itertools.cycle[list[int]]", recorder: Recorder, timings: "_StageRecorder"
) -> Callable[[], None]:
    def run() -> None:
        indices = next(batches)
        started = time.perf_counter_ns()
        timing = pipeline.run_batch(indices)
        finished = time.perf_counter_ns()
        recorder.record(started, finished, frames=len(indices))
        timings.add(finished, timing)

    return run


def _batches(frames: int, batch_size: int) -> "itertools.cycle[list[int]]":
    """Consecutive frames in batches, wrapping around the footage (as the server sees them)."""
    order = [i % frames for i in range(batch_size * frames)]
    return itertools.cycle([order[i : i + batch_size] for i in range(0, len(order), batch_size)])


def _outcome(windows: list[Window], first: Boundary, last: Boundary, settings: WindowSettings) -> WindowsOutcome:
    return WindowsOutcome(reported(windows, settings), len(windows), is_stable(windows, settings),
                          usage_between(first.cpu, last.cpu))  # fmt: skip


@dataclass
class _StageRecorder:
    samples: list[tuple[int, BatchTiming]] = field(default_factory=list)

    def add(self, finished_ns: int, timing: BatchTiming) -> None:
        self.samples.append((finished_ns, timing))

    def mean_ms(self, start_ns: int, end_ns: int, stages: tuple[Stage, ...]) -> dict[Stage, float]:
        chosen = [t for at, t in self.samples if start_ns <= at < end_ns] or [t for _, t in self.samples[-1:]]
        return {stage: sum(t.stage_ns[stage] for t in chosen) / len(chosen) / 1e6 for stage in stages}
