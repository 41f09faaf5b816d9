"""Capture time without media: the container clock over a scripted capture, the wall-clock anchors of live
streams, what the source thread and the event make of a reader's timing."""

import json
import time
from types import SimpleNamespace

import cv2
import jsonschema
import numpy as np
import numpy.typing as npt
import pytest

from orchestrator.events.model import SCHEMA_PATH, FrameContext, FrameErrorCode, FrameErrorEvent, to_json_dict
from orchestrator.sources.capture import FrameDecodeError, FrameTiming, VideoReader
from orchestrator.sources.frame import Frame
from orchestrator.sources.items import UndecodableFrame
from orchestrator.sources.media_clock import ContainerClock, stated_start_time
from tests.unit.pipeline.test_source_thread import collect
from tests.unit.pipeline.test_source_thread_live import TimedReader

NO_TIME = -9.223372036854776e18
"""What OpenCV reports for FFmpeg's AV_NOPTS_VALUE."""
RTCP_TIME = 1_790_000_000.0


class ScriptedCapture:
    """A cv2.VideoCapture that decodes frames with the given (position ms, PTS in frame units) and reports
    ``open_time_usec`` as FFmpeg's start_time_realtime from ``stated_from`` frames on."""

    def __init__(self, frames: list[tuple[float, float]], *, fps: float = 10.0, length: int = 0) -> None:
        self._frames = list(frames)
        self._props = {cv2.CAP_PROP_FPS: fps, cv2.CAP_PROP_FRAME_COUNT: float(length),
                       cv2.CAP_PROP_STREAM_OPEN_TIME_USEC: NO_TIME}  # fmt: skip
        self.stated_from: int | None = None
        self._read = 0

    def get(self, prop_id: int) -> float:
        return self._props.get(prop_id, 0.0)

    def read(self) -> tuple[bool, npt.NDArray[np.uint8] | None]:
        if not self._frames:
            return False, None
        pos_ms, pts = self._frames.pop(0)
        self._props[cv2.CAP_PROP_POS_MSEC], self._props[cv2.CAP_PROP_PTS] = pos_ms, pts
        if self.stated_from is not None and self._read >= self.stated_from:
            self._props[cv2.CAP_PROP_STREAM_OPEN_TIME_USEC] = RTCP_TIME * 1e6
        self._read += 1
        return True, np.zeros((4, 4, 3), np.uint8)

    def release(self) -> None:
        pass


def read_all(capture: ScriptedCapture, fps: float | None = 10.0) -> list[float]:
    clock = ContainerClock(capture, fps)
    times = []
    while capture.read()[0]:
        times.append(clock.frame_read())
    return times


def test_a_container_that_starts_late_keeps_its_start() -> None:
    """OpenCV's position counts from the first frame; its PTS (in frame units) gives the container's origin."""
    capture = ScriptedCapture([(0.0, 15.0), (100.0, 16.0), (1100.0, 26.0)])
    assert read_all(capture) == pytest.approx([1.5, 1.6, 2.6])


def test_the_container_start_is_read_to_the_nearest_frame_period() -> None:
    capture = ScriptedCapture([(0.0, 24.0), (100.0, 25.0)])  # a start at 2.37 s reads as 24 frames at 10 fps
    assert read_all(capture) == pytest.approx([2.4, 2.5])


def test_variable_frame_rate_keeps_the_gaps() -> None:
    capture = ScriptedCapture([(0.0, 0.0), (100.0, 1.0), (2000.0, 13.0), (2033.3, 14.0)], fps=6.67)
    assert read_all(capture, 6.67) == pytest.approx([0.0, 0.1, 2.0, 2.0333])


def test_a_negative_container_start_counts_from_zero() -> None:
    capture = ScriptedCapture([(0.0, -1.0), (100.0, 0.0)])  # B-frame delay without an edit list
    assert read_all(capture) == pytest.approx([0.0, 0.1])


def test_timestamps_that_do_not_advance_are_spaced_by_the_frame_period() -> None:
    capture = ScriptedCapture([(0.0, 0.0), (0.0, 0.0), (0.0, 0.0)], fps=25.0)  # a stream without timestamps
    assert read_all(capture, 25.0) == pytest.approx([0.0, 0.04, 0.08])


def test_timestamps_that_go_back_are_the_streams_own() -> None:
    capture = ScriptedCapture([(0.0, 50.0), (100.0, 51.0), (0.0, 50.0), (100.0, 51.0)])  # an encoder restarted
    assert read_all(capture) == pytest.approx([5.0, 5.1, 5.0, 5.1])


@pytest.mark.parametrize(
    ("usec", "expected"),
    [(NO_TIME, None), (0.0, None), (86_400e6, None), (RTCP_TIME * 1e6, RTCP_TIME), ((time.time() + 9e6) * 1e6, None)],
)
def test_a_stated_start_time_must_be_plausible(usec: float, expected: float | None) -> None:
    class Capture:
        def get(self, prop_id: int) -> float:
            assert prop_id == cv2.CAP_PROP_STREAM_OPEN_TIME_USEC
            return usec

    assert stated_start_time(Capture()) == expected


def read_timings(
    capture: ScriptedCapture, *, live: bool, opened_at: float | None = None, arrivals: list[float] | None = None
) -> list[FrameTiming]:
    """The timings of every frame, the wall clock reading ``arrivals`` (one per frame) when given."""
    uri = "rtsp://camera.local/stream" if live else "clip.mp4"
    reader = VideoReader(capture, uri, live=live, opened_at=opened_at)  # type: ignore[arg-type]
    timings = []
    with pytest.MonkeyPatch.context() as patch:
        if arrivals is not None:
            clock = iter(arrivals)
            patch.setattr("orchestrator.sources.capture.time", SimpleNamespace(time=lambda: next(clock)))
        while reader.read() is not None:
            assert reader.timing is not None
            timings.append(reader.timing)
    return timings


def test_a_file_has_container_times_and_no_wall_clock() -> None:
    timings = read_timings(ScriptedCapture([(0.0, 15.0), (100.0, 16.0)], length=2), live=False)
    assert [t.media_ts_s for t in timings] == pytest.approx([1.5, 1.6])
    assert [t.source_time for t in timings] == [None, None]


def test_a_live_stream_without_a_stated_clock_is_placed_from_when_it_was_opened() -> None:
    """Opening probed 1.9 s of frames that then arrive in a burst: they keep their PTS spacing from the open."""
    frames = [(0.0, 30.0), (100.0, 31.0), (250.0, 32.5)]
    timings = read_timings(ScriptedCapture(frames), live=True, opened_at=1000.0, arrivals=[1001.9, 1001.91, 1001.92])
    assert [t.source_time for t in timings] == pytest.approx([1000.0, 1000.1, 1000.25])
    assert all(t.captured_at is None for t in timings), "an anchor is not a stated capture time"


def test_a_live_frame_is_never_placed_after_it_arrived() -> None:
    frames = [(0.0, 0.0), (100.0, 1.0), (200.0, 2.0), (300.0, 3.0)]
    arrivals = [1000.5, 1000.55, 1000.7, 1000.8]  # the second arrives sooner after the first than its PTS says
    timings = read_timings(ScriptedCapture(frames), live=True, opened_at=1000.5, arrivals=arrivals)
    placed = [t.source_time for t in timings]
    assert placed == pytest.approx([1000.5, 1000.55, 1000.65, 1000.75]), "the anchor moved 50 ms earlier, for good"
    assert all(p <= a for p, a in zip(placed, arrivals, strict=True))  # type: ignore[operator]


def test_a_live_stream_moves_to_its_stated_clock_once_it_states_one() -> None:
    capture = ScriptedCapture([(0.0, 0.0), (100.0, 1.0), (200.0, 2.0)])
    capture.stated_from = 1  # the first RTCP sender report arrives after the first frame
    timings = read_timings(capture, live=True, opened_at=1000.0, arrivals=[1000.5, 1000.6, 1000.7])
    assert timings[0].source_time == pytest.approx(1000.0)
    assert [t.source_time for t in timings[1:]] == pytest.approx([RTCP_TIME + 0.1, RTCP_TIME + 0.2])


async def test_frames_take_the_readers_timestamps() -> None:
    reader = TimedReader([(1.5, (0,), None), (1.6, (1,), 1_800_000_000.6), (1.7, (2,), None)], ends=True)
    items = await collect("clip.mp4", [reader])
    frames = [i for i in items if isinstance(i, Frame)]
    assert [f.source_ts_s for f in frames] == [1.5, 1.6, 1.7]
    assert [f.source_time for f in frames] == [None, 1_800_000_000.6, None]


class FailingThenTimed(TimedReader):
    """A timed reader whose second read fails to decode."""

    def __init__(self) -> None:
        super().__init__([(2.0, (0,), None), (2.2, (2,), None)], ends=True)
        self.fps = 10.0  # type: ignore[assignment]  # the base reader declares no rate
        self._reads = 0

    def read(self) -> npt.NDArray[np.uint8] | None:
        self._reads += 1
        if self._reads == 2:
            raise FrameDecodeError("corrupt")
        return super().read()


async def test_an_undecodable_frame_keeps_its_place_on_the_media_clock() -> None:
    items = await collect("clip.mp4", [FailingThenTimed()])
    times = [i.source_ts_s for i in items if isinstance(i, Frame | UndecodableFrame)]
    assert times == pytest.approx([2.0, 2.1, 2.2]), "not 0.1 (its index over the frame rate)"


def test_events_carry_the_source_time_only_when_known() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    timed = FrameContext("north", "run1", 4, 1.5, 1_800_000_000.2, None, None, 1_800_000_000.123456789)
    untimed = FrameContext("north", "run1", 4, 1.5, 1_800_000_000.2, None, None)
    documents = [to_json_dict(FrameErrorEvent(c, FrameErrorCode.REJECTED, "x", 1.0)) for c in (timed, untimed)]
    for document in documents:
        jsonschema.validate(document, schema)
    assert documents[0]["source_time"] == 1_800_000_000.123457
    assert "source_time" not in documents[1]
