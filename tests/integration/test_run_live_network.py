"""Live network sources end to end, against a real ffmpeg encoder and a local HTTP server: an HLS stream is
processed whole at its own pace and its glass-to-event counts from the encoder's clock; a finished source ends
instead of being replayed; a paused encoder produces no stale replays."""

import asyncio
import itertools
import statistics
from pathlib import Path

import pytest

from orchestrator.config.run_config import Mode
from orchestrator.sources.spec import parse_source
from tests.live_stream import encode_file, live_hls, serve_directory
from tests.pipeline_run import of_stream, run_and_read, session_config

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
TEST_FPS = 5
"""Slow enough that even a machine busy with other work has capacity to spare (the report measures 10 fps)."""


def detections(events: list[dict], stream: str) -> list[dict]:
    return of_stream(events, stream, "detections")


async def test_live_hls_is_processed_whole_and_timed_from_capture(grpc_url: str, tmp_path: Path) -> None:
    with live_hls(tmp_path / "hls", seconds=20, fps=TEST_FPS) as (url, encoder):
        config = session_config(tmp_path, (parse_source(url, "pitch"),), grpc_url, Mode.LIVE)
        summary, events = await run_and_read(config)
        assert encoder.wait(timeout=60) == 0
    (stats,) = summary.streams
    found = detections(events, "pitch")
    assert [s["state"] for s in of_stream(events, "pitch", "status")] == ["started", "ended"]
    assert of_stream(events, "pitch", "status")[0]["detail"].endswith("capture clock: source)")
    assert stats.frames_read > 10 * TEST_FPS
    # Before pacing, each segment's frames reached the live buffer at once and all but the last two overflowed
    # (80 % dropped). Paced, only a consumer stalled for a whole buffer's worth could overflow it; drops from a
    # machine too busy to keep up are "superseded". The share processed is in the report, measured quietly.
    assert stats.dropped_by_reason.get("overflow", 0) == 0, stats.dropped_by_reason
    assert found, "frames were processed"
    captured = [e["captured_at"] for e in found]
    assert captured == sorted(set(captured)), "each frame once, in capture order"
    assert all(e["source_time"] == pytest.approx(e["captured_at"], abs=1e-5) for e in found), "the playlist's dates"
    steps = [round(b - a, 3) for a, b in itertools.pairwise(captured)]
    assert statistics.median(steps) == pytest.approx(1 / TEST_FPS, abs=0.002), "the encoder's clock"
    glass = statistics.median(e["latency_ms"]["glass_to_event"] for e in found)
    assert glass > 500, "a frame cannot reach an HLS reader before its 1 s segment is complete"


async def test_a_finished_file_over_http_is_read_once_and_ends(grpc_url: str, tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    encode_file(served / "clip.mp4", seconds=5)
    with serve_directory(served) as (base, requests):
        config = session_config(tmp_path, (parse_source(f"{base}/clip.mp4", "clip"),), grpc_url, Mode.LIVE)
        summary, events = await run_and_read(config)
    assert [s["state"] for s in of_stream(events, "clip", "status")] == ["started", "ended"]
    assert of_stream(events, "clip", "status")[0]["detail"].endswith("capture clock: arrival)"), "no capture time"
    assert summary.streams[0].frames_read == 50
    seqs = [e["frame_seq"] for e in of_stream(events, "clip") if e["type"] != "status"]
    assert seqs == sorted(set(seqs)) and set(seqs) <= set(range(50)), "no frame twice (a busy machine may drop some)"
    assert len(requests) <= 3, requests


async def test_a_paused_encoder_causes_no_stale_replays(grpc_url: str, tmp_path: Path) -> None:
    with live_hls(tmp_path / "hls", seconds=16) as (url, encoder):
        config = session_config(tmp_path, (parse_source(url, "pitch"),), grpc_url, Mode.LIVE)

        async def pause_midway() -> None:
            await asyncio.sleep(5)
            encoder.pause()
            await asyncio.sleep(9)  # longer than the reader's 5 s stall timeout
            encoder.resume()

        pauser = asyncio.create_task(pause_midway())
        _, events = await run_and_read(config)
        await pauser
    states = [s["state"] for s in of_stream(events, "pitch", "status")]
    assert "reconnecting" in states and states[-1] == "ended", states
    captured = [e["captured_at"] for e in of_stream(events, "pitch") if e["type"] != "status"]
    assert captured == sorted(set(captured)), "no frame emitted twice across the reconnects"
    resumed = [s for s in of_stream(events, "pitch", "status") if s["state"] == "started"][-1]
    assert any(e["frame_seq"] >= resumed["frame_seq"] for e in detections(events, "pitch")), "it went on after"
