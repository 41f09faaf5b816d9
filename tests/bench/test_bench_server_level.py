"""A load level against the real server: Triton's own counters must agree with what the client sent."""

import pytest

from orchestrator.bench.direct import DirectSettings, build_pipeline, load_detector
from orchestrator.bench.footage import load_footage
from orchestrator.bench.generic_client import GenericTritonClient
from orchestrator.bench.measure import DirectPlan, ServerTarget, measure_level
from orchestrator.bench.payloads import build_payloads
from orchestrator.bench.settings import LoadMode, LoadSettings, WindowSettings
from orchestrator.bench.stage_tensors import compute_stage_tensors
from orchestrator.bench.stages import Stage
from orchestrator.bench.target import describe_target
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY, MEDIA_DIR
from orchestrator.triton.wire import WireFormat

pytestmark = pytest.mark.integration

SHORT = WindowSettings(warmup_s=0.2, window_s=0.8, max_windows=2, stable_windows=2)


async def _level(  # type: ignore[no-untyped-def]
    url: str, mode: LoadMode, level: float, wire: WireFormat = WireFormat.RAW, direct: bool = False
):
    async with GenericTritonClient.connect(url, 30.0) as client:
        target = await describe_target(client, "detection")
        tensors = compute_stage_tensors(load_footage(MEDIA_DIR / "vtest.avi", 4), 416)
        requests = build_payloads(target.config, tensors, wire).requests
        plan = await _plan(client, tensors, wire) if direct else None

        async def send(index: int) -> None:
            await client.infer("detection", requests[index % len(requests)])

        return await measure_level(ServerTarget(client, target.models, send),
                                   LoadSettings(mode, (level,)), level, SHORT, plan)  # fmt: skip


async def _plan(client: GenericTritonClient, tensors, wire: WireFormat) -> DirectPlan:  # type: ignore[no-untyped-def]
    configs = {stage: await client.model_config(stage.value) for stage in Stage}
    settings = DirectSettings.from_configs(configs, DEFAULT_MODEL_REPOSITORY)
    return DirectPlan(build_pipeline(tuple(Stage), tensors, load_detector(settings), settings, wire), 2)


async def test_server_counters_count_exactly_the_requests_sent(bench_triton_url: str) -> None:
    level, _ = await _level(bench_triton_url, LoadMode.CONCURRENCY, 3)
    assert level.failed == 0 and level.sent == level.completed > 0
    for name in ("detection", "preprocess", "detector"):
        totals = level.totals[name]
        assert totals.count("success") == level.sent, name
        assert totals.inferences == level.sent, name  # one frame per request
        assert sum(size * n for size, n in totals.batches.items()) == totals.inferences, name
        assert sum(totals.batches.values()) == totals.executions, name
        assert max(totals.batches) <= 3, name  # never more than the outstanding requests


async def test_reported_windows_see_the_server_working(bench_triton_url: str) -> None:
    level, direct = await _level(bench_triton_url, LoadMode.CONCURRENCY, 2, WireFormat.JPEG, direct=True)
    window = level.outcome.reported
    assert level.outcome.measured == direct.outcome.measured in (1, 2)  # one direct window per round
    assert window.latencies_ns.size > 0 and level.server["detection"].count("success") > 0
    assert level.server["detection"].count("success") <= level.totals["detection"].count("success") == level.sent
    assert level.server["detector"].mean_ms("compute_infer") is not None
    assert direct.batch_size == 2 and direct.outcome.reported.latencies_ns.size % 2 == 0


async def test_request_rate_sends_on_schedule_and_accounts_for_every_request(bench_triton_url: str) -> None:
    level, _ = await _level(bench_triton_url, LoadMode.REQUEST_RATE, 4.0)
    assert level.sent + level.skipped >= 4  # two rounds of 1 s at 4/s
    assert level.totals["detection"].count("success") == level.completed == level.sent
