"""Faults during pitchside run: dead sources, rejected frames, Triton down at start or restarted mid-run."""

import asyncio
import subprocess
import sys
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from orchestrator.config.run_config import Mode
from orchestrator.paths import MEDIA_DIR
from orchestrator.pipeline.session import run_session
from orchestrator.sources.source_thread import ReconnectPolicy
from orchestrator.sources.spec import parse_source
from orchestrator.triton.embedded import EmbeddedTriton, EmbeddedTritonConfig, ServerPorts
from orchestrator.triton.errors import TritonUnavailableError
from orchestrator.vision.frame_input import MAX_FRAME_SIDE
from tests.pipeline_run import of_stream, run_and_read, session_config

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
FAST_GIVE_UP = ReconnectPolicy(initial_s=0.05, max_s=0.2, max_attempts=2)


async def test_dead_sources_do_not_stop_a_live_one(grpc_url: str, tmp_path: Path) -> None:
    not_a_video = tmp_path / "notes.mp4"
    not_a_video.write_text("this is not a video")
    streams = (
        parse_source(str(MEDIA_DIR / "vtest.avi"), "good"),
        parse_source(str(tmp_path / "missing.mp4"), "missing"),
        parse_source(str(not_a_video), "garbage"),
        parse_source("rtsp://127.0.0.1:9/never", "unreachable"),
    )
    config = session_config(tmp_path, streams, grpc_url, Mode.OFFLINE, max_frames=40, reconnect=FAST_GIVE_UP)
    summary, events = await run_and_read(config)
    assert [e["frame_seq"] for e in of_stream(events, "good", "detections")] == list(range(40))
    for dead, reason in (("missing", "no such file"), ("garbage", "cannot open"), ("unreachable", "cannot open")):
        states = [(e["state"], e["detail"]) for e in of_stream(events, dead)]
        assert states[-1][0] == "failed" and reason in states[-1][1], states
    assert [e["state"] for e in of_stream(events, "unreachable")] == ["reconnecting", "reconnecting", "failed"]
    assert {s.stream_id: s.state for s in summary.streams} == {
        "good": "ended",
        "missing": "failed",
        "garbage": "failed",
        "unreachable": "failed",
    }


async def test_rejected_and_corrupt_frames_fail_alone(grpc_url: str, tmp_path: Path) -> None:
    stills = tmp_path / "stills"
    stills.mkdir()
    good = cv2.imread(str(MEDIA_DIR / "basketball1.png"))
    cv2.imwrite(str(stills / "0-good.png"), good)
    cv2.imwrite(str(stills / "1-too-wide.png"), np.zeros((8, MAX_FRAME_SIDE + 8, 3), np.uint8))
    (stills / "2-corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    cv2.imwrite(str(stills / "3-good.png"), good)
    config = session_config(tmp_path, (parse_source(str(stills), "stills"),), grpc_url, Mode.OFFLINE)
    _, events = await run_and_read(config)
    frames = [e for e in of_stream(events, "stills") if e["type"] != "status"]
    assert [(e["frame_seq"], e["type"]) for e in frames] == [
        (0, "detections"),
        (1, "frame_error"),
        (2, "frame_error"),
        (3, "detections"),
    ]
    # Refused by the orchestrator's decode limits before it is decoded or sent (Triton applies the same limit).
    assert frames[1]["error"]["code"] == "rejected"
    assert "1-too-wide.png declares 8200x8 pixels, above the decode limit of 8192" in frames[1]["error"]["message"]
    assert frames[2]["error"]["code"] == "rejected" and "2-corrupt.png" in frames[2]["error"]["message"]
    assert len(frames[0]["detections"]) == len(frames[3]["detections"]) == 3
    assert [e["state"] for e in of_stream(events, "stills", "status")] == ["started", "ended"]


async def test_triton_unreachable_at_start_is_a_clear_error(tmp_path: Path) -> None:
    url = f"127.0.0.1:{ServerPorts(0, 0, 0).resolved().grpc}"
    config = session_config(tmp_path, (parse_source(str(MEDIA_DIR / "vtest.avi")),), url, Mode.OFFLINE)
    with pytest.raises(TritonUnavailableError, match=f"no Triton endpoint ready at {url}"):
        await run_session(config, registry=CollectorRegistry(), report=lambda line: None)


def test_cli_exits_non_zero_when_triton_is_unreachable(tmp_path: Path) -> None:
    url = f"127.0.0.1:{ServerPorts(0, 0, 0).resolved().grpc}"
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "run", "--triton-url", url, "--metrics-port", "0",
         "--sink", f"jsonl:{tmp_path / 'e.jsonl'}"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert f"error: no Triton endpoint ready at {url}" in result.stderr


async def test_failover_to_the_healthy_endpoint(grpc_url: str, tmp_path: Path) -> None:
    dead = f"127.0.0.1:{ServerPorts(0, 0, 0).resolved().grpc}"
    config = session_config(tmp_path, (parse_source(str(MEDIA_DIR / "vtest.avi"), "cam"),), (dead, grpc_url),
                            Mode.OFFLINE, max_frames=20)  # fmt: skip
    summary, events = await run_and_read(config)
    assert [e["frame_seq"] for e in of_stream(events, "cam", "detections")] == list(range(20))
    assert summary.streams[0].frame_errors == 0


async def test_triton_restart_mid_run_loses_no_frame(model_repository: Path, tmp_path: Path) -> None:
    ports = ServerPorts(0, 0, 0).resolved()
    server_config = EmbeddedTritonConfig(model_repository, ports, log_path=tmp_path / "triton.log")
    first = EmbeddedTriton(server_config)
    first.start()
    url = first.endpoints.grpc_url
    frames = 120
    config = session_config(tmp_path, (parse_source(str(MEDIA_DIR / "vtest.avi"), "cam"),), url, Mode.OFFLINE,
                            max_frames=frames)  # fmt: skip
    events_path = tmp_path / "events.jsonl"
    second: EmbeddedTriton | None = None

    async def restart_when_busy() -> None:
        nonlocal second
        while not events_path.exists() or events_path.read_text().count('"detections"') < 25:
            await asyncio.sleep(0.1)
        await asyncio.to_thread(first.stop)
        await asyncio.sleep(1.0)
        second = EmbeddedTriton(server_config)
        await asyncio.to_thread(second.start)

    try:
        restarter = asyncio.create_task(restart_when_busy())
        summary, events = await run_and_read(config)
        await restarter
    finally:
        first.stop()
        if second is not None:
            second.stop()
    detections = of_stream(events, "cam", "detections")
    assert [e["frame_seq"] for e in detections] == list(range(frames)), "every frame, once, in order"
    (stats,) = summary.streams
    assert stats.frame_errors == 0
    assert stats.retries > 0, "the restart really interrupted inference"


async def test_metrics_and_health_endpoints(grpc_url: str, tmp_path: Path) -> None:
    port = ServerPorts(0, 0, 0).resolved().metrics
    config = session_config(tmp_path, (parse_source("synthetic:?fps=20&frames=30", "synth"),), grpc_url, Mode.LIVE)
    from dataclasses import replace

    config = replace(config, metrics_port=port)
    scraped: dict[str, str] = {}

    async def scrape() -> None:
        while "events" not in scraped:
            await asyncio.sleep(0.3)
            body = await asyncio.to_thread(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read())
            text = body.decode()
            if 'pitchside_events_total{stream="synth",type="detections"}' in text:
                scraped["events"] = text
                scraped["health"] = await asyncio.to_thread(
                    lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz").read().decode()
                )

    scraper = asyncio.create_task(scrape())
    await run_and_read(config)
    await asyncio.wait_for(scraper, 5)
    assert scraped["health"] == "ok\n"
    text = scraped["events"]
    for series in (
        'pitchside_stage_latency_seconds_bucket{le="0.005",stage="glass_to_event",stream="synth"}',
        'pitchside_queue_depth{stream="synth"}',
        'pitchside_in_flight{stream="synth"}',
        'pitchside_frames_read{stream="synth"}',
    ):
        assert series in text, series
