"""``pitchside bench model``: every level of the load, per wire format, through Triton and directly."""

import asyncio
import datetime as dt
import functools
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tritonclient.utils import triton_to_np_dtype

from orchestrator.bench.direct import (
    DirectPipeline,
    DirectSettings,
    DirectUnavailableError,
    FrameDetector,
    build_pipeline,
    detector_input_size,
    load_detector,
)
from orchestrator.bench.footage import Footage, load_footage
from orchestrator.bench.generic_client import GenericTritonClient
from orchestrator.bench.levels import DirectLevel, ServerLevel
from orchestrator.bench.machine import describe_machine, load_average
from orchestrator.bench.measure import DirectPlan, ServerTarget, measure_level
from orchestrator.bench.payloads import Payloads, build_payloads
from orchestrator.bench.progress import BenchProgress
from orchestrator.bench.settings import BENCH_RELEASES_SERVER_MEMORY, LoadMode, ModelBenchConfig
from orchestrator.bench.stage_tensors import StageTensors, compute_stage_tensors
from orchestrator.bench.stages import Stage
from orchestrator.bench.standin.replay import RecordedOutputs, ReplayDetector, record_outputs
from orchestrator.bench.standin.repository import render_standin_repository
from orchestrator.bench.target import Target, describe_target
from orchestrator.contract import DETECTOR_MODEL
from orchestrator.triton.endpoint import triton_endpoint
from orchestrator.triton.errors import TritonError
from orchestrator.triton.wire import WireFormat
from orchestrator.vision.onnx_detector import OnnxDetector


@dataclass(frozen=True)
class LevelResult:
    server: ServerLevel
    direct: DirectLevel | None


@dataclass(frozen=True)
class WireRun:
    wire: WireFormat
    payloads: Payloads
    levels: tuple[LevelResult, ...]


@dataclass(frozen=True)
class Direct:
    """The direct baseline's ingredients, or why there is none."""

    settings: DirectSettings | None
    detector: FrameDetector | None
    unavailable: str | None


@dataclass(frozen=True)
class DetectorBytes:
    """What one frame costs at the detector's boundary, from its config: in (images + LETTERBOX) and out."""

    into: int
    out: int


@dataclass(frozen=True)
class ModelBenchResult:
    config: ModelBenchConfig
    started_at: dt.datetime
    machine: dict[str, Any]
    load_average_end: list[float] | None
    server_version: str
    target: Target
    footage: Footage
    direct: Direct
    runs: tuple[WireRun, ...]
    detector_bytes: DetectorBytes
    standin: bool


async def run_model_bench(config: ModelBenchConfig, progress: BenchProgress) -> ModelBenchResult:
    """Start (or reach) the server, measure every wire format and level, and return what was measured."""
    started_at, machine = dt.datetime.now(dt.UTC), describe_machine()
    footage = await asyncio.to_thread(load_footage, config.footage, config.frames, config.frame_size)
    async with (
        _served_repository(config, footage, progress) as (repository, recorded),
        triton_endpoint(config.triton_url, repository, release_memory=BENCH_RELEASES_SERVER_MEMORY) as url,
        GenericTritonClient.connect(url, config.request_timeout_s) as client,
    ):
        measured = await _measure(client, config, footage, recorded, progress, url)
    return ModelBenchResult(config, started_at, machine, load_average(), *measured, recorded is not None)


async def _measure(
    client: GenericTritonClient,
    config: ModelBenchConfig,
    footage: Footage,
    recorded: RecordedOutputs | None,
    progress: BenchProgress,
    url: str,
) -> tuple[str, Target, Footage, Direct, tuple[WireRun, ...], DetectorBytes]:
    version, target = await client.server_version(), await describe_target(client, config.target_model)
    progress.note(f"Triton {version} at {url}: {target.model} ready")
    direct = await _prepare_direct(client, config, target, recorded)
    detector_config = await client.model_config(DETECTOR_MODEL)
    tensors = await asyncio.to_thread(_stage_tensors, footage, detector_config)
    detector_bytes = detector_io_bytes(detector_config)
    progress.plan(len(config.wire_formats) * len(config.load.levels) * config.windows.max_windows, "windows")
    runs = tuple([await _wire_run(client, config, target, tensors, direct, w, progress) for w in config.wire_formats])
    return version, target, footage, direct, runs, detector_bytes


@asynccontextmanager
async def _served_repository(
    config: ModelBenchConfig, footage: Footage, progress: BenchProgress
) -> AsyncIterator[tuple[Path, RecordedOutputs | None]]:
    """The repository to serve: the configured one, or a temporary copy with the stand-in detector."""
    if not config.standin_detector:
        yield config.model_repository, None
        return
    progress.note("recording the real detector's outputs for the stand-in ...")
    recorded = await asyncio.to_thread(_record, config.model_repository, footage)
    with tempfile.TemporaryDirectory(prefix="pitchside-standin-") as scratch:
        repository = Path(scratch) / "model_repository"
        await asyncio.to_thread(render_standin_repository, config.model_repository, recorded, repository)
        yield repository, recorded


def _record(repository: Path, footage: Footage) -> RecordedOutputs:
    detector = OnnxDetector.load(repository / DETECTOR_MODEL / "1" / "model.onnx")
    tensors = compute_stage_tensors(footage, detector.input_size)
    return record_outputs(detector, tensors.letterboxed, tensors.letterboxes)


def detector_io_bytes(config: dict[str, Any]) -> DetectorBytes:
    """Bytes per frame of the detector's inputs and outputs, from its (JSON) model config."""

    def size(specs: list[dict[str, Any]]) -> int:
        return sum(
            int(np.prod([int(d) for d in spec["dims"]])) * np.dtype(triton_to_np_dtype(spec["data_type"][5:])).itemsize
            for spec in specs
        )

    return DetectorBytes(size(config.get("input", [])), size(per_frame_outputs(config)))


def per_frame_outputs(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The outputs a client asks for each frame: all but those that carry a labels file (``CLASS_SCORES``, which
    the orchestrator asks for once, to read the class names)."""
    return [spec for spec in config.get("output", []) if not spec.get("label_filename")]


async def _wire_run(
    client: GenericTritonClient,
    config: ModelBenchConfig,
    target: Target,
    tensors: StageTensors,
    direct: Direct,
    wire: WireFormat,
    progress: BenchProgress,
) -> WireRun:
    payloads = await asyncio.to_thread(build_payloads, target.config, tensors, wire)
    pipeline = await asyncio.to_thread(_pipeline, target, tensors, direct, wire)
    outputs = [spec["name"] for spec in per_frame_outputs(target.config)]
    server_target = ServerTarget(client, target.models, _sender(client, target.model, payloads, outputs))
    levels = []
    for level in config.load.levels:
        label = f"{wire.value} {_level_label(config, level)}"
        plan = None if pipeline is None else DirectPlan(pipeline, _direct_batch(config, level, target))
        measured = await measure_level(
            server_target, config.load, level, config.windows, plan, functools.partial(progress.advance, label)
        )
        progress.give_back(config.windows.max_windows - measured[0].outcome.measured)
        levels.append(LevelResult(*measured))
    return WireRun(wire, payloads, tuple(levels))


def _level_label(config: ModelBenchConfig, level: float) -> str:
    return f"c={level:g}" if config.load.mode is LoadMode.CONCURRENCY else f"{level:g}/s"


def _sender(client: GenericTritonClient, model: str, payloads: Payloads, outputs: list[str]) -> Callable[[int], Any]:
    requests = payloads.requests

    async def send(index: int) -> None:
        await client.infer(model, requests[index % len(requests)], outputs)

    return send


def _direct_batch(config: ModelBenchConfig, level: float, target: Target) -> int:
    """The batch the direct baseline runs beside a level: what the dynamic batcher could form at most."""
    if config.load.mode is LoadMode.REQUEST_RATE:
        return 1
    return max(1, min(int(level), target.max_batch_size or 1))


async def _prepare_direct(
    client: GenericTritonClient, config: ModelBenchConfig, target: Target, recorded: RecordedOutputs | None
) -> Direct:
    if not config.direct:
        return Direct(None, None, "disabled (--no-direct)")
    try:
        configs = {stage: await client.model_config(stage.value) for stage in Stage}
        settings = DirectSettings.from_configs(configs, config.model_repository)
        detector: FrameDetector = (
            ReplayDetector(recorded) if recorded is not None else await asyncio.to_thread(load_detector, settings)
        )
    except (TritonError, DirectUnavailableError, KeyError, ValueError) as exc:
        return Direct(None, None, f"no direct baseline: {exc}")
    if not target.stages:
        return Direct(settings, detector, f"{target.model} runs none of the pipeline's stages")
    return Direct(settings, detector, None)


def _stage_tensors(footage: Footage, detector_config: dict[str, Any]) -> StageTensors:
    """Letterboxed frames at the served detector's size, whether or not the direct baseline runs (the letterbox
    wire sends them); none when the server has no such detector."""
    try:
        size = detector_input_size(detector_config)
    except DirectUnavailableError:
        return StageTensors(footage, (), ())
    return compute_stage_tensors(footage, size)


def _pipeline(target: Target, tensors: StageTensors, direct: Direct, wire: WireFormat) -> DirectPipeline | None:
    if direct.unavailable is not None or direct.settings is None or direct.detector is None:
        return None
    return build_pipeline(target.stages, tensors, direct.detector, direct.settings, wire)
