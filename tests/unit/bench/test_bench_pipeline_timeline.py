"""The pipeline report's drops-over-time timeline and its plots, from synthetic events with known gaps."""

from pathlib import Path
from typing import Any

import pytest

from orchestrator.bench.pipeline_bench import timeline
from orchestrator.bench.pipeline_table import timeline_lines
from orchestrator.bench.plots import write_plots


def _event(stream: str, seq: int, kind: str = "detections") -> dict[str, Any]:
    return {"type": kind, "stream_id": stream, "frame_seq": seq}


def test_frames_never_emitted_are_counted_as_drops_at_their_place_in_the_footage() -> None:
    # 2 streams at 4 fps, 12 frames each (3 s). camera-0 loses frames 5, 6 and 11; camera-1 emits only frames
    # 0-3, one of them as a frame error; a status event carries no frame.
    events = [_event("camera-0", seq) for seq in (0, 1, 2, 3, 4, 7, 8, 9, 10)]
    events += [_event("camera-1", 0), _event("camera-1", 1, "frame_error"), _event("camera-1", 2),
               _event("camera-1", 3), {"type": "status", "stream_id": "camera-1", "frame_seq": 4}]  # fmt: skip
    points = timeline(events, 4.0, {"camera-0": 12, "camera-1": 12})
    assert points == [
        {"t_s": 0.0, "events": 7, "errors": 1, "dropped": 0},
        {"t_s": 1.0, "events": 2, "errors": 0, "dropped": 2 + 4},
        {"t_s": 2.0, "events": 3, "errors": 0, "dropped": 1 + 4},
    ]
    assert sum(p["events"] + p["errors"] + p["dropped"] for p in points) == 24, "every frame read is accounted for"


def test_a_stream_that_emitted_nothing_drops_everything_it_read() -> None:
    assert timeline([], 2.0, {"camera-0": 4}) == [
        {"t_s": 0.0, "events": 0, "errors": 0, "dropped": 2},
        {"t_s": 1.0, "events": 0, "errors": 0, "dropped": 2},
    ]


def test_pipeline_plots_are_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    cdf = [[10.0, 0.5], [20.0, 1.0]]
    section = {
        "configuration": {"streams": 2, "fps": 4.0},
        "cdf_ms": cdf,
        "cdf_ms_by_stage": {"decode": [[1.0, 0.5], [2.0, 1.0]], "glass_to_event": cdf},
        "timeline": timeline([_event("camera-0", 0)], 4.0, {"camera-0": 8}),
        "direct": {"cdf_ms": [[8.0, 1.0]]},
    }
    paths = write_plots({"pipeline": section}, tmp_path / "plots")
    assert [p.name for p in paths] == ["pipeline_latency_cdf.png", "pipeline_drops.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in paths)


def test_the_table_shows_drops_per_second_of_footage() -> None:
    points = timeline([_event("camera-0", seq) for seq in (0, 1, 4)], 2.0, {"camera-0": 6})
    assert timeline_lines(points) == ["dropped per second of footage: 0 2 1",
                                       "frame errors per second:       0 0 0"]  # fmt: skip
    assert timeline_lines(timeline([_event("camera-0", 0)], 2.0, {"camera-0": 1})) == ["no frame dropped or failed"]
