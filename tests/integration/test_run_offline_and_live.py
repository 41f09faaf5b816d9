"""pitchside run against the real embedded Triton: offline completeness, live drops, tracking."""

import asyncio
from pathlib import Path

import cv2
import numpy as np
import pytest

from orchestrator.config.run_config import Mode
from orchestrator.paths import MEDIA_DIR
from orchestrator.sources.spec import parse_source
from orchestrator.vision.coco import PERSON
from tests.pipeline_run import of_stream, run_and_read, session_config

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]


def frame_count(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.grab():
        count += 1
    capture.release()
    return count


@pytest.fixture(scope="module")
def offline_run(grpc_url: str, tmp_path_factory: pytest.TempPathFactory):
    """Both shared videos, in full, through one offline run (they share Triton's dynamic batcher)."""
    tmp = tmp_path_factory.mktemp("offline")
    streams = (
        parse_source(str(MEDIA_DIR / "vtest.avi"), "campus"),
        parse_source(str(MEDIA_DIR / "sports2d_demo.mp4"), "rooftop"),
    )
    return asyncio.run(run_and_read(session_config(tmp, streams, grpc_url, Mode.OFFLINE)))


@pytest.mark.parametrize(("stream", "video"), [("campus", "vtest.avi"), ("rooftop", "sports2d_demo.mp4")])
def test_offline_yields_exactly_one_event_per_frame_in_order(offline_run, stream: str, video: str) -> None:
    summary, events = offline_run
    expected = frame_count(MEDIA_DIR / video)
    frames = [e for e in of_stream(events, stream) if e["type"] != "status"]
    assert [e["frame_seq"] for e in frames] == list(range(expected))
    assert all(e["type"] == "detections" for e in frames), [e for e in frames if e["type"] != "detections"][:3]
    statuses = [e["state"] for e in of_stream(events, stream, "status")]
    assert statuses == ["started", "ended"]
    stats = next(s for s in summary.streams if s.stream_id == stream)
    assert stats.dropped == 0 and stats.frame_errors == 0
    assert len({e["event_id"] for e in of_stream(events, stream)}) == len(of_stream(events, stream))


def test_offline_events_carry_real_detections(offline_run) -> None:
    _, events = offline_run
    people = [d for e in of_stream(events, "campus", "detections") for d in e["detections"] if d["class_id"] == PERSON]
    assert len(people) > 795, "vtest.avi shows several people in most frames"
    frame = next(e for e in of_stream(events, "campus", "detections") if e["detections"])
    assert frame["frame_size"] == {"width": 768, "height": 576}
    for det in frame["detections"]:
        x1, y1, x2, y2 = det["box_xyxy"]
        assert 0 <= x1 < x2 <= 768 and 0 <= y1 < y2 <= 576
        assert det["box_norm"] == pytest.approx([x1 / 768, y1 / 576, x2 / 768, y2 / 576], abs=1e-4)


def longest_person_run(events: list[dict]) -> tuple[int, int]:
    """(track id, number of consecutive frames) of the person track seen in the most consecutive frames."""
    best: tuple[int, int] = (0, 0)
    current: dict[int, tuple[int, int]] = {}  # track id -> (last frame, run length)
    for event in events:
        seq = event["frame_seq"]
        for det in event["detections"]:
            if det["class_id"] != PERSON:
                continue
            last, length = current.get(det["track_id"], (-2, 0))
            length = length + 1 if last == seq - 1 else 1
            current[det["track_id"]] = (seq, length)
            best = max(best, (det["track_id"], length), key=lambda t: t[1])
    return best


def test_a_person_walking_through_keeps_one_track_id(offline_run) -> None:
    _, events = offline_run
    detections = of_stream(events, "campus", "detections")
    track_id, frames = longest_person_run(detections)
    assert frames >= 100, f"longest person track {track_id} spans only {frames} consecutive frames"
    boxes = [
        next(d["box_xyxy"] for d in e["detections"] if d["track_id"] == track_id)
        for e in detections
        if any(d["track_id"] == track_id for d in e["detections"])
    ]
    centres = np.array([[(b[0] + b[2]) / 2, (b[1] + b[3]) / 2] for b in boxes])
    steps = np.linalg.norm(np.diff(centres, axis=0), axis=1)
    assert steps.max() < 40, "one track id must follow one walking person, not jump between people"
    assert np.linalg.norm(centres[-1] - centres[0]) > 100, "the person walks through the scene"


async def test_live_mode_drops_instead_of_growing_latency(grpc_url: str, tmp_path: Path) -> None:
    """A 200 fps source is far faster than the CPU model: frames are dropped, not queued."""
    source = parse_source("synthetic:?width=640&height=480&fps=200&frames=400", "fast")
    budget_s = 0.5
    summary, events = await run_and_read(
        session_config(tmp_path, (source,), grpc_url, Mode.LIVE, staleness_budget_s=budget_s)
    )
    (stats,) = summary.streams
    frames = of_stream(events, "fast", "detections")
    assert stats.frames_read == 400
    assert stats.dropped > 0
    assert len(frames) + stats.dropped == 400, "every frame is either processed or counted as dropped"
    seqs = [e["frame_seq"] for e in frames]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert max(e["latency_ms"]["queue"] for e in frames) <= budget_s * 1e3, "no frame waited beyond the budget"
