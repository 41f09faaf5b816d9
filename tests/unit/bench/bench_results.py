"""Synthetic benchmark results with known figures, so report, table and compare are checked exactly."""

import datetime as dt
from pathlib import Path

import numpy as np

from orchestrator.bench.cpu import CpuUsage
from orchestrator.bench.direct import DirectSettings
from orchestrator.bench.footage import Footage
from orchestrator.bench.levels import DirectLevel, ServerLevel, WindowsOutcome
from orchestrator.bench.model_bench import DetectorBytes, Direct, LevelResult, ModelBenchResult, WireRun
from orchestrator.bench.payloads import Payloads
from orchestrator.bench.server_stats import ModelCounters
from orchestrator.bench.settings import LoadMode, LoadSettings, ModelBenchConfig
from orchestrator.bench.stages import Stage
from orchestrator.bench.target import Target
from orchestrator.bench.windows import Window
from orchestrator.triton.wire import WireFormat

MODELS = ("detection", "preprocess", "detector")


def window(latency_ms: float, frames: int, seconds: float = 1.0) -> Window:
    """``frames`` frames of ``latency_ms`` each, completed within ``seconds``."""
    return Window(0, int(seconds * 1e9), np.full(frames, int(latency_ms * 1e6), dtype=np.int64), 0)


def outcome(latency_ms: float, frames: int, spread: float = 0.02) -> WindowsOutcome:
    """Three 1 s windows around ``frames`` fps and ``latency_ms``, ``spread`` apart (max/min - 1): the noise."""
    windows = (window(latency_ms, frames), window(latency_ms * (1 + spread), frames, seconds=1 + spread),
               window(latency_ms, frames))  # fmt: skip
    return WindowsOutcome(window(latency_ms, frames), measured=3, stable=True, cpu=CpuUsage(90.0, 95.0),
                          windows=windows)  # fmt: skip


def counters(requests: int, batches: dict[int, int], request_ms: float) -> ModelCounters:
    inferences = sum(size * n for size, n in batches.items())
    total_ns = int(requests * request_ms * 1e6)
    return ModelCounters(
        inferences=inferences,
        executions=sum(batches.values()),
        durations={"success": (requests, total_ns), "queue": (requests, total_ns // 10),
                   "compute_input": (requests, 0), "compute_infer": (requests, total_ns // 2),
                   "compute_output": (requests, 0), "fail": (0, 0)},
        batches=batches,
    )  # fmt: skip


def level(concurrency: int, fps: float, latency_ms: float, direct_fps: float, direct_ms: float) -> LevelResult:
    frames = int(fps)
    server = {name: counters(frames, {1: frames}, latency_ms - 1.0) for name in MODELS}
    served = ServerLevel(float(concurrency), outcome(latency_ms, frames), server, server, frames, frames, 0, 0, None)
    direct = DirectLevel(min(concurrency, 8), outcome(direct_ms, int(direct_fps)),
                         {Stage.PREPROCESS: 1.0, Stage.DETECTOR: 20.0})  # fmt: skip
    return LevelResult(served, direct)


def make_result(levels: tuple[LevelResult, ...], mode: LoadMode = LoadMode.CONCURRENCY) -> ModelBenchResult:
    values = tuple(lv.server.level for lv in levels)
    config = ModelBenchConfig(LoadSettings(mode, values))
    frame = np.zeros((576, 768, 3), dtype=np.uint8)
    footage = Footage("vtest.avi", (frame,), (np.zeros(1000, dtype=np.uint8),))
    settings = DirectSettings(Path("model.onnx"), 0, 416)
    target = Target("detection", {"platform": "ensemble", "max_batch_size": 8}, MODELS[1:], tuple(Stage))
    run = WireRun(WireFormat.RAW, Payloads(("IMAGE_RAW",), (), 1327104.0), levels)
    return ModelBenchResult(
        config, dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        {"platform": "Linux", "python": "3.11.7", "cpu_model": "test CPU", "logical_cpus": 2,
         "load_average": [0.5, 0.5, 0.5]},
        [1.0, 1.0, 1.0], "2.51.0", target, footage, Direct(settings, None, None), (run,),
        DetectorBytes(416 * 416 * 3 + 5 * 4, 300 * 6 * 4 + 4), False,
    )  # fmt: skip
