"""Progress and the time-left estimate, without a terminal (the pseudo-terminal test is in tests/bench)."""

import io

import pytest

from orchestrator.bench.progress import Estimate, LineProgress, format_duration, open_progress


def test_time_left_is_the_planned_units_to_come_at_the_pace_so_far() -> None:
    estimate = Estimate(total=24, done=6, unit="windows", started=100.0)
    assert estimate.remaining_s(now=130.0) == pytest.approx(90.0)  # 5 s per window, 18 to come
    estimate.total -= 10  # levels that turned stable early give their windows back
    assert estimate.remaining_s(now=130.0) == pytest.approx(40.0)
    assert Estimate(total=5).remaining_s() is None, "no pace before the first unit"


def test_durations_read_as_minutes_and_seconds() -> None:
    assert [format_duration(s) for s in (4.4, 59.6, 61, 3725)] == ["4s", "1m00s", "1m01s", "62m05s"]


def test_lines_say_what_runs_how_far_along_and_the_time_left() -> None:
    stream = io.StringIO()
    progress = LineProgress(stream)
    progress.note("Triton 2.51.0 at localhost:8001: detector ready")
    progress.plan(12, "windows")
    progress.advance("letterbox c=1")
    progress.give_back(4)
    progress.advance("letterbox c=2")
    progress.advance("letterbox c=2")  # same step again within the interval: not repeated
    lines = stream.getvalue().splitlines()
    assert lines[0] == "Triton 2.51.0 at localhost:8001: detector ready"
    assert lines[1].startswith("letterbox c=1: 1/12 windows, ~") and lines[1].endswith(" left")
    assert lines[2].startswith("letterbox c=2: 2/8 windows, ~")
    assert len(lines) == 3


def test_a_pipe_gets_plain_lines_not_a_live_bar() -> None:
    stream = io.StringIO()
    with open_progress(stream) as progress:
        assert isinstance(progress, LineProgress)
        progress.note("hello")
    assert stream.getvalue() == "hello\n"
