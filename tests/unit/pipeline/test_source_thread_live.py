"""Live network sources: end of stream is not a stall, nothing is emitted twice after a reconnect, the backoff
only resets once the source delivers again, and frames are paced by the source's own timestamps."""

import asyncio
import itertools

import numpy as np
import pytest

from orchestrator.sources.capture import CaptureClock, FrameTiming, SourceError, TimedFrameReader
from orchestrator.sources.frame import Frame
from orchestrator.sources.frame_buffer import DropPolicy, FrameBuffer
from orchestrator.sources.source_thread import PacingClock, ReconnectPolicy, SourceThread
from orchestrator.sources.spec import parse_source
from tests.unit.pipeline.test_source_thread import collect, describe

HLS = "http://encoder.local/live/index.m3u8"


class TimedReader:
    """Frames at the given (media ts, position, captured_at), then the end (``ends``) or a stall."""

    def __init__(self, frames: list[tuple[float, tuple[int, ...] | None, float | None]], ends: bool) -> None:
        self._frames = list(frames)
        self._ends = ends
        self.fps = None
        self.timing: FrameTiming | None = None
        self.finished = False
        self.capture_clock = CaptureClock.SOURCE

    def read(self) -> np.ndarray | None:
        if not self._frames:
            self.finished = self._ends
            return None
        media_ts, position, captured_at = self._frames.pop(0)
        self.timing = FrameTiming(media_ts, position, captured_at)
        value = 0 if position is None else position[-1]
        return np.full((4, 4, 3), value, np.uint8)

    def close(self) -> None:
        pass


def frames(first: int, last: int, segment: int = 7) -> list[tuple[float, tuple[int, ...], float]]:
    return [(i / 10, (segment, i), 1_700_000_000.0 + i / 10) for i in range(first, last + 1)]


def test_the_scripted_reader_is_a_timed_reader() -> None:
    assert isinstance(TimedReader([], ends=True), TimedFrameReader)


async def test_a_network_source_that_ends_is_ended_not_reconnected() -> None:
    items = await collect(HLS, [TimedReader(frames(0, 2), ends=True), TimedReader(frames(0, 2), ends=True)])
    assert describe(items) == ["started", (0, 0), (1, 1), (2, 2), "ended"]
    assert "end of stream after 3 frames" in items[-1].detail


async def test_after_a_stall_frames_already_emitted_are_not_emitted_again() -> None:
    stalled = TimedReader(frames(0, 4), ends=False)
    reopened = TimedReader(frames(2, 8), ends=True)  # a reopened live playlist starts before where we were
    items = await collect(HLS, [stalled, reopened])
    assert describe(items) == [
        "started", (0, 0), (1, 1), (2, 2), (3, 3), (4, 4), "reconnecting", "started", (5, 5), (6, 6), (7, 7), (8, 8),
        "ended",
    ]  # fmt: skip
    captured = [i.captured_at for i in items if isinstance(i, Frame)]
    assert captured == sorted(set(captured)), "each capture once, from the source's clock"
    assert captured[0] == 1_700_000_000.0
    assert items[0].detail.endswith("capture clock: source)"), "the STARTED event says which clock latency uses"


async def test_a_paused_encoder_replays_nothing() -> None:
    """The playlist stops growing: every reopening serves the same last segment again, and is not re-emitted."""
    replays = [TimedReader(frames(5, 9), ends=False) for _ in range(3)]
    items = await collect(HLS, [TimedReader(frames(0, 9), ends=False), *replays])
    assert [f.seq for f in items if isinstance(f, Frame)] == list(range(10))
    assert describe(items)[-2:] == ["started", "failed"], "max_attempts counts reopenings that bring nothing new"
    assert items[-1].detail == "no new frames after 3 reconnects"


class RecordingPolicy(ReconnectPolicy):
    """Records the attempt number of every backoff and waits no time."""

    def __init__(self) -> None:
        super().__init__(initial_s=0.001, max_s=0.002, max_attempts=6)
        object.__setattr__(self, "attempts", [])

    def delay(self, attempt: int) -> float:
        self.attempts.append(attempt)  # type: ignore[attr-defined]
        return 0.0


async def test_the_backoff_resets_only_when_the_source_delivers_new_frames() -> None:
    loop = asyncio.get_running_loop()
    buffer = FrameBuffer(64, DropPolicy.BLOCK, None, lambda f, r: None)
    opens = [TimedReader(frames(0, 3), ends=False) for _ in range(5)]  # then each reopening delivers nothing new

    def open_reader(spec: object) -> TimedReader:
        if not opens:
            raise SourceError("gone")
        return opens.pop(0)

    policy = RecordingPolicy()
    source = SourceThread(parse_source(HLS), open_reader, buffer.put, loop, paced=False, reconnect=policy)
    await loop.run_in_executor(None, source.run)
    assert policy.attempts == [0, 1, 2, 3, 4, 5], "reopening without new frames keeps backing off"
    assert source.frames_read == 4


async def test_frames_are_paced_by_their_media_timestamps(monkeypatch: pytest.MonkeyPatch) -> None:
    dues: list[float] = []
    monkeypatch.setattr(SourceThread, "_sleep_until", lambda self, due: dues.append(due))
    script = [(10.0, (1, 0), None), (10.1, (1, 1), None), (10.25, (1, 2), None), (30.0, (2, 0), None),
              (30.1, (2, 1), None)]  # fmt: skip
    items = await collect(HLS, [TimedReader(script, ends=True)])
    assert len([i for i in items if isinstance(i, Frame)]) == 5
    assert len(dues) == 3, "the first frame and the one after the 19.75 s gap are handed on at once"
    assert dues[1] - dues[0] == pytest.approx(0.15), "due at its media time, counted from the anchor"


def test_a_constant_rate_recording_is_read_on_time_and_due_when_read() -> None:
    clock = PacingClock.replay(fps=25.0)
    assert clock.expected() is None, "the first frame is read at once"
    assert clock.due(1.5, now=100.0) == 100.0
    assert clock.expected() == pytest.approx(100.04)
    assert clock.due(1.54, now=100.04) == pytest.approx(100.04)
    assert clock.expected() == pytest.approx(100.08)


def test_a_variable_rate_recording_is_due_at_its_own_timestamps() -> None:
    clock = PacingClock.replay(fps=25.0)
    clock.due(1.5, now=100.0)
    clock.due(1.54, now=100.04)
    assert clock.due(1.64, now=100.08) == pytest.approx(100.14), "read when expected, held until due"
    assert clock.expected() == pytest.approx(100.24), "the next is expected one step (0.10) later"
    assert clock.due(1.66, now=100.24) == pytest.approx(100.16), "due earlier than read: it is late"


@pytest.mark.parametrize("jump", [12.0, -0.5])
def test_a_pause_is_waited_out_but_a_jump_or_time_going_back_starts_the_clock_afresh(jump: float) -> None:
    paused = PacingClock.replay(fps=25.0)
    paused.due(1.5, now=100.0)
    assert paused.due(4.5, now=100.04) == pytest.approx(103.0), "a 3 s pause of the recording"

    clock = PacingClock.replay(fps=25.0)
    clock.due(1.5, now=100.0)
    assert clock.due(1.5 + jump, now=100.04) == 100.04
    assert clock.due(1.54 + jump, now=100.08) == pytest.approx(100.08)


async def test_a_recording_replayed_live_is_captured_at_its_own_timestamps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the source thread (waiting skipped): a variable-frame-rate file's frames keep their media time as
    source_ts and are captured at their due times, spaced as their timestamps are."""
    monkeypatch.setattr(SourceThread, "_sleep_until", lambda self, due: None)
    stamps = [1.5, 1.54, 1.64, 1.66, 1.76]  # 25 fps, then 10, 50, 10
    script = [(ts, (index,), None) for index, ts in enumerate(stamps)]
    items = await collect("clip.mp4", [TimedReader(script, ends=True)], paced=True)
    frames = [i for i in items if isinstance(i, Frame)]
    assert [f.source_ts_s for f in frames] == stamps
    captured = [f.captured_at for f in frames]
    assert [b - a for a, b in itertools.pairwise(captured)] == pytest.approx([0.04, 0.10, 0.02, 0.10], abs=0.005)
