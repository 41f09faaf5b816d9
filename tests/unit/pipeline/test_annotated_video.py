"""The annotated video: one frame per source frame at the source's rate, the camera view beside the radar, and the
writer's thread never holding up the pipeline."""

import logging
import threading
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from orchestrator.events.model import (
    DetectionEvent,
    FrameContext,
    FrameErrorCode,
    FrameErrorEvent,
    ModelRef,
    PitchPoint,
    StageLatency,
    StatusEvent,
    StreamState,
    TrackedDetection,
)
from orchestrator.metrics.pipeline_metrics import PipelineMetrics
from orchestrator.metrics.rolling import StreamStats
from orchestrator.pipeline.annotated_video import (
    FALLBACK_FPS,
    QUEUE_FRAMES,
    RATE_PROBE_FRAMES,
    AnnotatedVideoWriter,
    annotated_video_path,
    frame_rate,
)
from orchestrator.pipeline.emitter import EventEmitter
from orchestrator.pitch.templates import football
from orchestrator.sinks.record import SinkRecord
from orchestrator.sources.frame import Frame
from orchestrator.vision.drawing import key_color
from orchestrator.vision.radar import PITCH_GREEN, radar_scale
from orchestrator.vision.video_encoder import VideoEncodeError, WebmEncoder

SIZE = (64, 48)
GREY = 90


class FakeEncoder:
    """Keeps what it is given; ``hold`` makes ``write`` wait (a slow disk), ``fail_after`` makes it break."""

    def __init__(self, hold: threading.Event | None = None, fail_after: int | None = None) -> None:
        self.opened: list[tuple[Path, tuple[int, int], Fraction]] = []
        self.frames: list[np.ndarray] = []
        self.closed = False
        self.writing = threading.Event()
        self._hold = hold
        self._fail_after = fail_after

    def open(self, path: Path, size: tuple[int, int], rate: Fraction) -> "FakeEncoder":
        self.opened.append((path, size, rate))
        return self

    def write(self, image: np.ndarray) -> None:
        self.writing.set()
        if self._hold is not None:
            self._hold.wait(10)
        if self._fail_after is not None and len(self.frames) >= self._fail_after:
            raise VideoEncodeError("disk full")
        self.frames.append(image.copy())

    def close(self) -> None:
        self.closed = True


def context(seq: int, fps: float = 25.0) -> FrameContext:
    return FrameContext("cam", "run", seq, seq / fps, 0.0, SIZE[0], SIZE[1])


def frame(seq: int, fps: float = 25.0, size: tuple[int, int] = SIZE) -> Frame:
    image = np.full((size[1], size[0], 3), GREY + seq % 50, np.uint8)
    return Frame("cam", seq, image, seq / fps, 0.0, 0.0, 0.0)


def detections(seq: int, fps: float = 25.0, pitch: PitchPoint | None = None) -> DetectionEvent:
    box = TrackedDetection((10.0, 10.0, 40.0, 40.0), 0.9, 0, "person", 4, pitch)
    return DetectionEvent(context(seq, fps), (box,), StageLatency(0, 0, 0, 0), 0.0, ModelRef("detector", "1"))


def frame_error(seq: int, fps: float = 25.0) -> FrameErrorEvent:
    return FrameErrorEvent(context(seq, fps), FrameErrorCode.FAILED, "server failed", 0.0)


def write(encoder: FakeEncoder, items: list, template=None) -> AnnotatedVideoWriter:
    writer = AnnotatedVideoWriter(Path("video.webm"), template, encoder.open)
    writer.start()
    for event, picture in items:
        writer.submit(event, picture)
    writer.close()
    return writer


@pytest.mark.parametrize(
    ("fps", "expected"),
    [(10.0, Fraction(10)), (25.0, Fraction(25)), (30000 / 1001, Fraction(30000, 1001)), (50.0, Fraction(50))],
)
def test_the_rate_is_read_from_the_frames_timestamps(fps: float, expected: Fraction) -> None:
    assert frame_rate([(seq, seq / fps) for seq in range(RATE_PROBE_FRAMES)]) == expected


def test_a_dropped_frame_between_two_counts_as_the_frames_it_skipped() -> None:
    assert frame_rate([(0, 0.0), (3, 0.1), (4, 4 / 30), (5, 5 / 30)]) == 30


def test_jitter_in_arrival_times_does_not_move_the_rate_far() -> None:
    rng = np.random.default_rng(1)
    times = np.arange(8) / 20.0 + rng.normal(0, 0.004, 8)
    assert float(frame_rate(list(enumerate(times.tolist())))) == pytest.approx(20, rel=0.1)


@pytest.mark.parametrize("samples", [[], [(0, 0.0)], [(0, 1.0), (1, 1.0), (2, 1.0)]])
def test_without_advancing_timestamps_the_rate_is_the_documented_fallback(samples: list) -> None:
    assert frame_rate(samples) == FALLBACK_FPS


def test_each_stream_gets_its_own_webm_in_the_folder() -> None:
    assert annotated_video_path(Path("out/videos"), "north-cam") == Path("out/videos/north-cam.webm")


def test_every_frame_is_written_at_the_sources_rate_with_boxes_and_no_radar_without_a_template() -> None:
    encoder = FakeEncoder()
    writer = write(encoder, [(detections(seq, 30.0), frame(seq, 30.0)) for seq in range(20)])
    assert encoder.opened == [(Path("video.webm"), SIZE, Fraction(30))]
    assert len(encoder.frames) == writer.written == 20 and writer.without_picture == 0 and writer.dropped == 0
    assert encoder.closed
    assert tuple(encoder.frames[0][10, 25]) == key_color(4), "the box's top edge, in its track's colour"
    assert tuple(encoder.frames[0][25, 25]) == (GREY,) * 3, "inside the box: the camera view"


def test_a_short_stream_is_still_written_when_it_ends_before_the_rate_probe() -> None:
    encoder = FakeEncoder()
    write(encoder, [(detections(seq, 12.0), frame(seq, 12.0)) for seq in range(3)])
    assert encoder.opened[0][2] == 12 and len(encoder.frames) == 3


def test_a_frame_error_repeats_the_last_camera_view_without_boxes() -> None:
    encoder = FakeEncoder()
    items = [(detections(0), frame(0)), (frame_error(1), None), (detections(2), frame(2))]
    writer = write(encoder, items)
    assert len(encoder.frames) == 3 and writer.without_picture == 1
    assert tuple(encoder.frames[1][10, 25]) == (GREY,) * 3, "no box on the repeated view"
    assert tuple(encoder.frames[1][25, 25]) == (GREY,) * 3


def test_frames_that_never_arrived_keep_their_place_in_time() -> None:
    encoder = FakeEncoder()
    writer = write(encoder, [(detections(seq), frame(seq)) for seq in (0, 1, 2, 6, 7, 8, 9, 10, 11)])
    assert len(encoder.frames) == 12 and writer.without_picture == 3
    assert encoder.opened[0][2] == 25


def test_frame_errors_before_the_first_picture_are_black_frames() -> None:
    encoder = FakeEncoder()
    items = [(frame_error(0), None), (frame_error(1), None)] + [(detections(s), frame(s)) for s in range(2, 12)]
    write(encoder, items)
    assert len(encoder.frames) == 12
    assert not encoder.frames[0].any() and encoder.frames[2].any()


def test_a_stream_without_any_picture_writes_no_video(caplog: pytest.LogCaptureFixture) -> None:
    encoder = FakeEncoder()
    with caplog.at_level(logging.WARNING):
        writer = write(encoder, [(frame_error(seq), None) for seq in range(3)])
    assert encoder.opened == [] and writer.written == 0
    assert "none of the stream's frames had a picture" in caplog.text


def test_with_a_template_the_radar_stands_beside_the_camera_view_with_the_tracks_dot() -> None:
    encoder = FakeEncoder()
    pitch = football()
    where = PitchPoint(51.0, 33.0, True, 52.5, 34.0, 1.2)  # the radar shows the track's smoothed position
    write(encoder, [(detections(seq, pitch=where), frame(seq)) for seq in range(10)], template=pitch)
    scale = radar_scale(pitch, SIZE[1])
    width, height = encoder.opened[0][1]
    assert (width, height) == (SIZE[0] + scale.size[0] + scale.size[0] % 2, scale.size[1] + scale.size[1] % 2)
    x, y = scale.to_px(52.5, 34.0)
    image = encoder.frames[-1]
    assert tuple(image[y, SIZE[0] + x]) == key_color(4), "the track's dot, in its box's colour"
    assert tuple(image[2, SIZE[0] + 2]) == PITCH_GREEN


def test_odd_sizes_are_padded_to_even_and_a_resolution_change_is_scaled_to_the_first() -> None:
    encoder = FakeEncoder()
    items = [(detections(seq), frame(seq, size=(63, 47))) for seq in range(4)]
    items += [(detections(seq), frame(seq, size=(126, 94))) for seq in range(4, 8)]
    write(encoder, items)
    assert encoder.opened[0][1] == (64, 48)
    assert {f.shape for f in encoder.frames} == {(48, 64, 3)}


def test_a_full_queue_drops_frames_without_blocking_and_they_keep_their_place() -> None:
    hold = threading.Event()
    encoder = FakeEncoder(hold=hold)
    writer = AnnotatedVideoWriter(Path("video.webm"), None, encoder.open)
    writer.start()
    total = RATE_PROBE_FRAMES + QUEUE_FRAMES + 5
    for seq in range(RATE_PROBE_FRAMES):
        writer.submit(detections(seq), frame(seq))
    assert encoder.writing.wait(10), "the writer opened the video and is stuck writing"
    for seq in range(RATE_PROBE_FRAMES, total):
        writer.submit(detections(seq), frame(seq))  # never blocks
    assert writer.dropped == 5
    hold.set()
    writer.close()
    assert len(encoder.frames) == total, "the 5 dropped at the end are repeats of the last view"
    assert writer.without_picture == 5


def test_pictures_beyond_the_byte_budget_are_dropped_and_keep_their_place(monkeypatch: pytest.MonkeyPatch) -> None:
    hold = threading.Event()
    encoder = FakeEncoder(hold=hold)
    writer = AnnotatedVideoWriter(Path("video.webm"), None, encoder.open)
    writer.start()
    for seq in range(RATE_PROBE_FRAMES):
        writer.submit(detections(seq), frame(seq))
    assert encoder.writing.wait(10), "the writer opened the video and is stuck writing"
    monkeypatch.setattr("orchestrator.pipeline.annotated_video.QUEUE_BYTES", 3 * frame(0).image.nbytes)
    total = RATE_PROBE_FRAMES + 6
    for seq in range(RATE_PROBE_FRAMES, total):
        writer.submit(detections(seq), frame(seq))  # 3 pictures fit the budget, 3 do not
    writer.submit(frame_error(total), None)  # an event without a picture takes no bytes
    assert writer.dropped == 3
    hold.set()
    writer.close()
    assert len(encoder.frames) == total + 1 and writer.without_picture == 4


def test_a_failing_encoder_is_logged_and_the_rest_dropped_without_hanging(caplog: pytest.LogCaptureFixture) -> None:
    encoder = FakeEncoder(fail_after=9)
    with caplog.at_level(logging.ERROR):
        writer = write(encoder, [(detections(seq), frame(seq)) for seq in range(12)])
    assert len(encoder.frames) == 9 and encoder.closed
    assert writer.dropped == 3, "the frame that failed and the two after it"
    assert "annotated video video.webm failed" in caplog.text


def test_the_real_encoder_writes_a_vp9_webm_at_the_given_rate(tmp_path: Path) -> None:
    path = tmp_path / "cam.webm"
    encoder = WebmEncoder.open(path, (96, 64), Fraction(30000, 1001))
    for seq in range(12):
        encoder.write(np.full((64, 96, 3), seq * 20, np.uint8))
    encoder.close()
    capture = cv2.VideoCapture(str(path))
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(29.97, abs=0.01)
    count = 0
    while capture.read()[0]:
        count += 1
    assert count == 12
    assert path.read_bytes()[:4] == b"\x1a\x45\xdf\xa3", "an EBML (Matroska/WebM) header"


def test_the_real_encoder_refuses_a_frame_of_another_size(tmp_path: Path) -> None:
    encoder = WebmEncoder.open(tmp_path / "cam.webm", (96, 64), Fraction(25))
    with pytest.raises(ValueError, match="frame is 64x96, the video 96x64"):
        encoder.write(np.zeros((96, 64, 3), np.uint8))
    encoder.close()


def test_the_real_encoder_says_why_ffmpeg_failed(tmp_path: Path) -> None:
    encoder = WebmEncoder.open(tmp_path / "missing" / "cam.webm", (96, 64), Fraction(25))
    with pytest.raises(VideoEncodeError, match=r"missing/cam\.webm"):
        for _ in range(200):  # ffmpeg exits when it cannot open its output; the pipe breaks soon after
            encoder.write(np.zeros((64, 96, 3), np.uint8))
        encoder.close()


class Sinks:
    def __init__(self) -> None:
        self.records: list[SinkRecord] = []

    def submit(self, record: SinkRecord) -> None:
        self.records.append(record)


class Recorder:
    def __init__(self) -> None:
        self.got: list[tuple[object, Frame | None]] = []

    def submit(self, event: object, picture: Frame | None) -> None:
        self.got.append((event, picture))


def test_the_emitter_hands_each_streams_frame_events_to_that_streams_video() -> None:
    videos = {"cam": Recorder(), "other": Recorder()}
    stats = {sid: StreamStats(sid) for sid in ("cam", "other")}
    emitter = EventEmitter(Sinks(), PipelineMetrics(CollectorRegistry()), stats, videos)
    picture = frame(0)
    emitter.emit(detections(0), picture)
    emitter.emit(frame_error(1), None)
    emitter.emit(StatusEvent("cam", "run", 2, StreamState.ENDED, "done", 0.0), None)
    assert [(type(e).__name__, p) for e, p in videos["cam"].got] == [
        ("DetectionEvent", picture),
        ("FrameErrorEvent", None),
    ]
    assert videos["other"].got == []


def test_the_emitter_without_videos_annotates_nothing() -> None:
    emitter = EventEmitter(Sinks(), PipelineMetrics(CollectorRegistry()), {"cam": StreamStats("cam")})
    emitter.emit(detections(0), frame(0))  # no error, nothing to hand over
