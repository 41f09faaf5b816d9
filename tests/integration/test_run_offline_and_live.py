"""pitchside run against the real embedded Triton: offline completeness, live drops, tracking."""

import asyncio
import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from orchestrator.config.run_config import Mode
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY, MEDIA_DIR
from orchestrator.repository.model_config import read_labels
from orchestrator.sources.spec import parse_source
from tests.pipeline_run import of_stream, run_and_read, session_config

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]
PERSON = read_labels(DEFAULT_MODEL_REPOSITORY / "detector" / "labels.txt").index("person")
"""The bundled detector's class id of people, as its labels file names them."""


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
    # the default wire sends letterboxed frames straight to the detector, which Triton reports as version 1
    assert {(e["model"]["name"], e["model"]["version"]) for e in of_stream(events, "campus", "detections")} == {
        ("detector", "1")
    }
    for det in frame["detections"]:
        x1, y1, x2, y2 = det["box_xyxy"]
        assert 0 <= x1 < x2 <= 768 and 0 <= y1 < y2 <= 576
        assert det["box_norm"] == pytest.approx([x1 / 768, y1 / 576, x2 / 768, y2 / 576], abs=1e-4)


def person_runs(events: list[dict]) -> list[list[tuple[int, list[float]]]]:
    """Every unbroken run of one person track id over consecutive frames, as [(frame_seq, box_xyxy), ...]."""
    runs: dict[int, list[list[tuple[int, list[float]]]]] = {}
    for event in events:
        for det in event["detections"]:
            if det["class_id"] != PERSON:
                continue
            track = runs.setdefault(det["track_id"], [[]])
            if track[-1] and track[-1][-1][0] != event["frame_seq"] - 1:
                track.append([])
            track[-1].append((event["frame_seq"], det["box_xyxy"]))
    return [run for track in runs.values() for run in track]


def centre(box: list[float]) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def test_a_person_walking_through_keeps_one_track_id(offline_run) -> None:
    _, events = offline_run
    walks = [
        run
        for run in person_runs(of_stream(events, "campus", "detections"))
        if len(run) >= 60 and np.linalg.norm(centre(run[-1][1]) - centre(run[0][1])) > 150
    ]
    assert walks, "no person track id survives 60 consecutive frames while its person walks 150 px"
    for run in walks:
        steps = [np.linalg.norm(centre(b) - centre(a)) for (_, a), (_, b) in itertools.pairwise(run)]
        assert max(steps) < 40, "one track id follows one walking person, it does not jump between people"


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
