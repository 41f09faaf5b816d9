"""The stream path with a fake detector and a scripted source: frame order, drops, outage retry and errors."""

import asyncio
import concurrent.futures
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pytest

from orchestrator.config.camera import CameraSettings
from orchestrator.config.modes import Mode
from orchestrator.config.run_config import FlowSettings
from orchestrator.events.model import DetectionEvent, Event, FrameErrorCode, FrameErrorEvent, StatusEvent
from orchestrator.pipeline.stream import StreamPipeline
from orchestrator.sources.frame import Frame
from orchestrator.sources.frame_buffer import DropReason
from orchestrator.sources.spec import SourceSpec, parse_source
from orchestrator.tracking.tracker import Tracker
from orchestrator.triton.detections import Detections
from orchestrator.triton.errors import (
    InferenceExpiredError,
    InferenceFailedError,
    InferenceRejectedError,
    TritonUnavailableError,
)

FPS = 30.0


class NumberedReader:
    """``count`` frames whose first pixel is their index, at ``FPS``."""

    def __init__(self, count: int) -> None:
        self._next = 0
        self._count = count
        self.fps = FPS

    def read(self) -> npt.NDArray[np.uint8] | None:
        if self._next >= self._count:
            return None
        image = np.zeros((48, 64, 3), np.uint8)
        image[0, 0, 0] = self._next
        self._next += 1
        return image

    def close(self) -> None:
        pass


class ScriptedDetector:
    """Answers frame ``n`` (its first pixel) after a delay that makes later frames finish first; ``script`` maps
    a frame to exceptions raised on its successive attempts before it succeeds."""

    def __init__(self, script: Mapping[int, list[Exception]] | None = None, always: Exception | None = None) -> None:
        self._script = {k: list(v) for k, v in (script or {}).items()}
        self._always = always
        self.attempts: dict[int, int] = {}

    async def detect(
        self,
        image: npt.NDArray[np.uint8],
        timeout_s: float,
        queue_timeout_s: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[Detections, str]:
        n = int(image[0, 0, 0])
        self.attempts[n] = self.attempts.get(n, 0) + 1
        await asyncio.sleep(0.002 * (n % 4 == 0))  # every fourth frame is slow: its successors overtake it
        if self._always is not None and n == 2:
            raise self._always
        pending = self._script.get(n)
        if pending:
            raise pending.pop(0)
        row = np.array([[n, 1.0, n + 10.0, 11.0, 0.9, n % 2]], np.float32)
        return Detections.from_rows(row, "fake", "7"), "fake:0"


class Collected:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.drops: list[tuple[int, DropReason]] = []
        self.retries = 0
        self.pictures: dict[int, Frame | None] = {}
        """The frame handed on with each frame event, by frame_seq."""

    def emit(self, event: Event, frame: Frame | None) -> None:
        self.events.append(event)
        if isinstance(event, DetectionEvent | FrameErrorEvent):
            self.pictures[event.frame.frame_seq] = frame

    def dropped(self, frame: Frame, reason: DropReason) -> None:
        self.drops.append((frame.seq, reason))

    def retried(self, stream_id: str) -> None:
        self.retries += 1

    def frame_events(self) -> list[DetectionEvent | FrameErrorEvent]:
        return [e for e in self.events if isinstance(e, DetectionEvent | FrameErrorEvent)]


def run_stream(
    detector: ScriptedDetector,
    frames: int = 12,
    flow: FlowSettings | None = None,
    camera: CameraSettings | None = None,
) -> Collected:
    output = Collected()
    spec = SourceSpec("cam-1", "numbered", parse_source("clip.mp4").kind)

    async def main() -> None:
        stream = StreamPipeline(
            spec,
            flow or FlowSettings(mode=Mode.OFFLINE, offline_in_flight=4),
            detector,
            asyncio.Semaphore(8),
            output,
            Tracker(),
            "run-1",
            5.0,
            reader_factory=lambda _: NumberedReader(frames),
            camera=camera or CameraSettings(),
        )
        with concurrent.futures.ThreadPoolExecutor(1) as executor:
            await stream.run(executor)

    asyncio.run(main())
    return output


def test_every_frame_yields_one_event_in_frame_order_though_answers_come_out_of_order() -> None:
    output = run_stream(ScriptedDetector())
    frame_events = output.frame_events()
    assert [e.frame.frame_seq for e in frame_events] == list(range(12))
    assert all(isinstance(e, DetectionEvent) for e in frame_events)
    first = frame_events[5]
    assert isinstance(first, DetectionEvent)
    assert first.detections[0].box_xyxy == (5.0, 1.0, 15.0, 11.0)
    assert first.detections[0].class_id == 1 and first.model.version == "7"
    statuses = [e for e in output.events if isinstance(e, StatusEvent)]
    assert [s.state for s in statuses] == ["started", "ended"]
    assert output.events[0] is statuses[0] and output.events[-1] is statuses[-1]


def test_tracks_follow_the_frames_in_order() -> None:
    output = run_stream(ScriptedDetector())
    ids = [e.detections[0].track_id for e in output.frame_events() if isinstance(e, DetectionEvent)]
    assert len(set(ids[0::2])) == 1 and len(set(ids[1::2])) == 1  # class 0 and class 1 each keep one track
    assert ids[0] != ids[1]


def test_each_error_fails_only_its_frame_with_its_code() -> None:
    detector = ScriptedDetector(
        {3: [InferenceRejectedError("frame 3 too big")], 5: [InferenceFailedError("out of memory")], 9: [KeyError("x")]}
    )
    output = run_stream(detector)
    events = output.frame_events()
    assert [e.frame.frame_seq for e in events] == list(range(12))
    errors = {e.frame.frame_seq: e for e in events if isinstance(e, FrameErrorEvent)}
    assert sorted(errors) == [3, 5, 9]
    assert errors[3].code is FrameErrorCode.REJECTED and "too big" in errors[3].message
    assert errors[5].code is FrameErrorCode.FAILED and "out of memory" in errors[5].message
    assert errors[9].code is FrameErrorCode.FAILED and "internal error" in errors[9].message
    assert errors[3].frame.width == 64 and errors[3].frame.height == 48
    pictures = output.pictures
    assert all(pictures[n] is not None and pictures[n].seq == n for n in range(12))  # type: ignore[union-attr]


def test_an_outage_is_retried_within_the_budget_and_the_frame_then_succeeds() -> None:
    down = TritonUnavailableError("connection refused")
    detector = ScriptedDetector({7: [down, down]})
    output = run_stream(detector)
    events = output.frame_events()
    assert isinstance(events[7], DetectionEvent) and events[7].detections[0].box_xyxy[0] == 7.0
    assert detector.attempts[7] == 3 and output.retries == 2


def test_an_outage_beyond_the_budget_fails_the_frame_unavailable_and_the_stream_goes_on() -> None:
    detector = ScriptedDetector(always=TritonUnavailableError("connection refused"))
    flow = FlowSettings(mode=Mode.OFFLINE, offline_in_flight=4, outage_timeout_s=0.2)
    events = run_stream(detector, frames=6, flow=flow).frame_events()
    assert [e.frame.frame_seq for e in events] == list(range(6))
    error = events[2]
    assert isinstance(error, FrameErrorEvent) and error.code is FrameErrorCode.UNAVAILABLE
    assert "gave up after" in error.message and detector.attempts[2] >= 2
    assert all(isinstance(e, DetectionEvent) for i, e in enumerate(events) if i != 2)


def test_an_expired_live_frame_is_a_counted_stale_drop_not_an_event() -> None:
    output = run_stream(ScriptedDetector({4: [InferenceExpiredError("request timeout expired")]}))
    assert [e.frame.frame_seq for e in output.frame_events()] == [n for n in range(12) if n != 4]
    assert output.drops == [(4, DropReason.STALE)]


def test_the_fps_cap_sends_every_third_frame_of_a_30_fps_camera_capped_at_10() -> None:
    detector = ScriptedDetector()
    output = run_stream(detector, camera=CameraSettings(max_fps=10.0))
    assert [e.frame.frame_seq for e in output.frame_events()] == [0, 3, 6, 9]
    assert sorted(detector.attempts) == [0, 3, 6, 9]
    assert [seq for seq, reason in output.drops if reason is DropReason.FPS_CAP] == [1, 2, 4, 5, 7, 8, 10, 11]


def class_name(class_id: int) -> str:
    return Detections.from_rows(np.array([[0, 0, 1, 1, 0.9, class_id]], np.float32)).class_names()[0]


@pytest.mark.parametrize(
    ("camera", "kept"),
    [
        (CameraSettings(classes=frozenset({class_name(1)})), [1, 3, 5]),
        (CameraSettings(classes=frozenset({class_name(0)})), [0, 2, 4]),
        (CameraSettings(score_thresholds={class_name(0): 0.95}), [1, 3, 5]),
        (CameraSettings(score_thresholds={"*": 0.95}), []),
        (CameraSettings(score_thresholds={"*": 0.95, class_name(1): 0.5}), [1, 3, 5]),
    ],
)
def test_a_cameras_class_filter_and_thresholds_apply_to_its_events(camera: CameraSettings, kept: list[int]) -> None:
    """Even frames detect class 0, odd frames class 1; every score is 0.9."""
    output = run_stream(ScriptedDetector(), frames=6, camera=camera)
    events = [e for e in output.frame_events() if isinstance(e, DetectionEvent)]
    assert len(events) == 6  # filtering removes detections, never a frame's event
    assert [e.frame.frame_seq for e in events if e.detections] == kept
