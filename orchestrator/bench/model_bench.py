"""``pitchside bench model``: every level of the load, per wire format, through Triton and directly."""

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orchestrator.bench.direct import (
    DirectPipeline,
    DirectSettings,
    DirectUnavailableError,
    build_pipeline,
    load_detector,
)
from orchestrator.bench.footage import Footage, load_footage
from orchestrator.bench.generic_client import GenericTritonClient
from orchestrator.bench.levels import DirectLevel, ServerLevel
from orchestrator.bench.machine import describe_machine, load_average
from orchestrator.bench.measure import DirectPlan, ServerTarget, measure_level
from orchestrator.bench.payloads import Payloads, build_payloads
from orchestrator.bench.settings import LoadMode, ModelBenchConfig
from orchestrator.bench.stage_tensors import StageTensors, compute_stage_tensors
from orchestrator.bench.stages import Stage
from orchestrator.bench.target import Target, describe_target
from orchestrator.triton.endpoint import triton_endpoint
from orchestrator.triton.errors import TritonError
from orchestrator.triton.wire import WireFormat
from orchestrator.vision.onnx_detector import OnnxDetector

Progress = Callable[[str], None]


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
    detector: OnnxDetector | None
    unavailable: str | None


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


async def run_model_bench(config: ModelBenchConfig, progress: Progress) -> ModelBenchResult:
    """Start (or reach) the server, measure every wire format and level, and return what was measured."""
    started_at, machine = dt.datetime.now(dt.UTC), describe_machine()
    async with triton_endpoint(config.triton_url, config.model_repository) as url:
        progress(f"Triton at {url}")
        async with GenericTritonClient.connect(url, config.request_timeout_s) as client:
            version, target = await client.server_version(), await describe_target(client, config.model)
            footage = await asyncio.to_thread(load_footage, config.footage, config.frames)
            direct = await _prepare_direct(client, config, target)
            tensors = await asyncio.to_thread(_stage_tensors, footage, target, direct)
            runs = tuple([await _wire_run(client, config, target, tensors, direct, w, progress)
                          for w in config.wire_formats])  # fmt: skip
    return ModelBenchResult(config, started_at, machine, load_average(), version, target, footage, direct, runs)


async def _wire_run(
    client: GenericTritonClient, config: ModelBenchConfig, target: Target, tensors: StageTensors,
    direct: Direct, wire: WireFormat, progress: Progress,
) -> WireRun:  # fmt: skip
    payloads = await asyncio.to_thread(build_payloads, target.config, tensors, wire)
    pipeline = await asyncio.to_thread(_pipeline, target, tensors, direct, wire)
    server_target = ServerTarget(client, target.models, _sender(client, target.model, payloads))
    levels = []
    for level in config.load.levels:
        progress(f"{wire.value}: {config.load.mode.value} {level:g} ...")
        plan = None if pipeline is None else DirectPlan(pipeline, _direct_batch(config, level, target))
        levels.append(LevelResult(*await measure_level(server_target, config.load, level, config.windows, plan)))
    return WireRun(wire, payloads, tuple(levels))


def _sender(client: GenericTritonClient, model: str, payloads: Payloads) -> Callable[[int], Any]:
    requests = payloads.requests

    async def send(index: int) -> None:
        await client.infer(model, requests[index % len(requests)])

    return send


def _direct_batch(config: ModelBenchConfig, level: float, target: Target) -> int:
    """The batch the direct baseline runs beside a level: what the dynamic batcher could form at most."""
    if config.load.mode is LoadMode.REQUEST_RATE:
        return 1
    return max(1, min(int(level), target.max_batch_size or 1))


async def _prepare_direct(client: GenericTritonClient, config: ModelBenchConfig, target: Target) -> Direct:
    if not config.direct:
        return Direct(None, None, "disabled (--no-direct)")
    try:
        configs = {stage: await client.model_config(stage.value) for stage in Stage}
        settings = DirectSettings.from_configs(configs, config.model_repository)
        detector = await asyncio.to_thread(load_detector, settings)
    except (TritonError, DirectUnavailableError, KeyError, ValueError) as exc:
        return Direct(None, None, f"no direct baseline: {exc}")
    if not target.stages:
        return Direct(settings, detector, f"{target.model} runs none of the pipeline's stages")
    return Direct(settings, detector, None)


def _stage_tensors(footage: Footage, target: Target, direct: Direct) -> StageTensors:
    if direct.settings is None:
        return StageTensors(footage, (), ())
    return compute_stage_tensors(footage, direct.settings.input_size)


def _pipeline(target: Target, tensors: StageTensors, direct: Direct, wire: WireFormat) -> DirectPipeline | None:
    if direct.unavailable is not None or direct.settings is None or direct.detector is None:
        return None
    return build_pipeline(target.stages, tensors, direct.detector, direct.settings, wire)
