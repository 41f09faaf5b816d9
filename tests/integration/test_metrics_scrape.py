"""Every metric the Grafana dashboard and the alert rules read exists in a real scrape: the orchestrator's
/metrics during a real run against the embedded Triton, and that Triton's own metrics port.

DCGM's GPU metrics are the only exception (tests/deploy/observability.py's GPU_NODE_ONLY): they exist only on a
GPU node. tests/deploy/test_observability.py checks that the exception holds DCGM names and nothing else.
"""

import asyncio
import socket
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from orchestrator.config.run_config import Mode
from orchestrator.pipeline.session import run_session
from orchestrator.sources.spec import parse_source
from orchestrator.triton.embedded import EmbeddedTriton
from tests.deploy import observability
from tests.pipeline_run import session_config

pytestmark = pytest.mark.integration

SCRAPE_DEADLINE_S = 120.0
MODEL_METRIC_PREFIX = "pitchside_model_"
"""Metrics the Python models define themselves (model_repository/*/1/model.py): Triton serves them."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def used_metrics() -> set[str]:
    rule = observability.load_rule()
    return observability.dashboard_metrics(observability.load_dashboard()) | observability.rule_metrics(rule)


async def scrape_during_a_run(grpc_url: str, tmp_path: Path) -> str:
    """A live run over capacity (frames are dropped), scraped once events have gone through Triton and a sink."""
    port = free_port()
    source = parse_source("synthetic:?width=640&height=480&fps=60&frames=100000", "cam-scrape")
    config = replace(session_config(tmp_path, (source,), grpc_url, Mode.LIVE), metrics_port=port)
    stop = asyncio.Event()
    run = asyncio.create_task(run_session(config, registry=CollectorRegistry(), report=lambda line: None, stop=stop))
    try:
        async with asyncio.timeout(SCRAPE_DEADLINE_S):
            while True:
                await asyncio.sleep(0.5)
                text = await asyncio.to_thread(_try_fetch, f"http://127.0.0.1:{port}/metrics")
                if _has_events_and_drops(text):
                    return text
    finally:
        stop.set()
        await run


def _try_fetch(url: str) -> str:
    try:
        return fetch(url)
    except OSError:
        return ""  # not listening yet


def _has_events_and_drops(text: str) -> bool:
    delivered = 'pitchside_sink_delivered_total{sink="jsonl:'
    return 'stage="glass_to_event"' in text and delivered in text and "pitchside_stream_up{" in text


async def test_every_dashboard_and_alert_metric_is_in_a_real_scrape(
    triton: EmbeddedTriton, grpc_url: str, tmp_path: Path
) -> None:
    orchestrator = observability.sample_names(await scrape_during_a_run(grpc_url, tmp_path))
    server = observability.sample_names(await asyncio.to_thread(fetch, triton.endpoints.metrics_url))

    assert observability.scrape_problems(used_metrics(), orchestrator | server) == []
    from_server = {name for name in used_metrics() if name.startswith(("nv_", MODEL_METRIC_PREFIX))}
    assert from_server <= server, "Triton's metrics and the models' own come from the server"
    pitchside = {name for name in used_metrics() if name.startswith("pitchside_")} - from_server
    assert pitchside <= orchestrator, "the orchestrator's metrics come from the orchestrator"


async def test_triton_reports_queue_and_compute_per_composing_model(triton: EmbeddedTriton) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    text = await asyncio.to_thread(fetch, triton.endpoints.metrics_url)
    models = {
        sample.labels["model"]
        for family in text_string_to_metric_families(text)
        if family.name == "nv_inference_queue_duration_us"
        for sample in family.samples
    }
    assert len(models) >= 2, f"the ensemble and its composing models each report queue time: {models}"


def test_a_metric_no_server_exports_is_reported() -> None:
    problems = observability.scrape_problems({"pitchside_frames_droped_total", "DCGM_FI_DEV_GPU_UTIL"}, set())
    assert problems == ["pitchside_frames_droped_total: used but in no scrape"]
