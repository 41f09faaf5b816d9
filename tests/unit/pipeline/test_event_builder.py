"""Event building for a calibrated camera: pitch positions, speeds, zones in order, other resolutions."""

import time
from dataclasses import replace

import numpy as np
import pytest

from orchestrator.config.camera import CameraPitch, CameraSettings
from orchestrator.events.model import DetectionEvent, ZoneEvent, ZoneTransition, to_json_dict
from orchestrator.pipeline.event_builder import EventBuilder
from orchestrator.pipeline.results import Inferred
from orchestrator.pitch.calibration import fit_calibration
from orchestrator.pitch.templates import football
from orchestrator.sources.frame import Frame
from orchestrator.tracking.tracker import Tracker
from orchestrator.triton.detections import Detections

WIDTH, HEIGHT = 1050, 680
"""A top-down camera: 10 px per metre over the whole 105 x 68 m pitch, so truth is easy to write down."""
PX_PER_M = 10.0
FPS = 10.0


def camera(zones: dict[str, np.ndarray] | None = None) -> CameraSettings:
    image = np.array([[0, 0], [1050, 0], [1050, 680], [0, 680]], np.float64)
    calibration = fit_calibration(image, image / PX_PER_M, (WIDTH, HEIGHT))
    pitch = football()
    return CameraSettings(pitch=CameraPitch(pitch, calibration, (WIDTH, HEIGHT), {**pitch.zones, **(zones or {})}))


def box_at(x_m: float, y_m: float, size: tuple[int, int] = (WIDTH, HEIGHT)) -> list[float]:
    """A 1 x 2 m box standing with its feet at (x_m, y_m), in the pixels of a frame of ``size``."""
    sx, sy = size[0] / WIDTH, size[1] / HEIGHT
    fx, fy = x_m * PX_PER_M * sx, y_m * PX_PER_M * sy
    return [fx - 5 * sx, fy - 20 * sy, fx + 5 * sx, fy]


def inferred(seq: int, rows: list[list[float]], size: tuple[int, int] = (WIDTH, HEIGHT)) -> Inferred:
    image = np.zeros((size[1], size[0], 3), np.uint8)
    frame = Frame("cam", seq, image, seq / FPS, time.time(), 0.001, time.monotonic())
    found = Detections.from_rows(np.array(rows, np.float32).reshape(-1, 6), "detector", "1")
    return Inferred(frame, found, 0.0, 1.0, "local")


def person(x_m: float, y_m: float, size: tuple[int, int] = (WIDTH, HEIGHT)) -> list[float]:
    return [*box_at(x_m, y_m, size), 0.9, 0]


def test_people_stand_at_their_foot_point_and_get_a_speed() -> None:
    builder = EventBuilder("cam", "run", Tracker(), camera())
    first = builder.detections(inferred(0, [person(20.0, 30.0)]), time.time())[0]
    second = builder.detections(inferred(1, [person(20.5, 30.0)]), time.time())[0]
    assert isinstance(first, DetectionEvent) and isinstance(second, DetectionEvent)
    start, moved = first.detections[0].pitch, second.detections[0].pitch
    assert start is not None and moved is not None
    assert (start.x_m, start.y_m) == pytest.approx((20.0, 30.0), abs=1e-3)
    assert start.on_pitch and start.speed_m_s == 0.0
    assert moved.x_m == pytest.approx(20.5, abs=1e-3)  # the detection's own position
    # the track's: smoothed halfway towards the new position, 0.25 m in 0.1 s
    assert moved.track_x_m == pytest.approx(20.25, abs=1e-3) and moved.speed_m_s == pytest.approx(2.5, abs=1e-3)


def test_off_the_pitch_is_flagged_and_an_uncalibrated_camera_has_no_positions() -> None:
    off = EventBuilder("cam", "run", Tracker(), camera()).detections(inferred(0, [person(104.0, 1.0)]), 0.0)[0]
    assert isinstance(off, DetectionEvent) and off.detections[0].pitch is not None
    assert off.detections[0].pitch.on_pitch  # within the 1 m margin for feet on the line
    plain = EventBuilder("cam", "run", Tracker()).detections(inferred(0, [person(20.0, 30.0)]), 0.0)[0]
    assert isinstance(plain, DetectionEvent) and plain.detections[0].pitch is None


def test_a_frame_at_another_resolution_of_the_same_view_is_rescaled() -> None:
    half = (WIDTH // 2, HEIGHT // 2)
    event = EventBuilder("cam", "run", Tracker(), camera()).detections(inferred(0, [person(40.0, 20.0, half)], half), 0)
    point = event[0].detections[0].pitch  # type: ignore[union-attr]
    assert point is not None and (point.x_m, point.y_m) == pytest.approx((40.0, 20.0), abs=1e-3)


def test_a_frame_of_another_aspect_ratio_gets_no_positions() -> None:
    size = (800, 800)
    event = EventBuilder("cam", "run", Tracker(), camera()).detections(inferred(0, [person(10, 10, size)], size), 0)
    assert event[0].detections[0].pitch is None  # type: ignore[union-attr]


def test_zone_events_follow_their_frame_in_order_on_a_known_path() -> None:
    """A player walks from x = 20 m into the left penalty area (it ends at 16.5 m) to x = 12 m and back out, a
    quarter metre per frame; another stands in a custom box all along."""
    square = np.array([[50.0, 30.0], [55.0, 30.0], [55.0, 35.0], [50.0, 35.0]])
    builder = EventBuilder("cam", "run", Tracker(), camera({"centre_box": square}))
    path = [20.0 - 0.25 * i for i in range(33)] + [12.0 + 0.25 * i for i in range(1, 33)]
    seen: list[tuple[int, str, int, str]] = []
    for seq, x in enumerate(path):
        events = builder.detections(inferred(seq, [person(x, 34.0), person(52.0, 32.0)]), 0.0)
        assert isinstance(events[0], DetectionEvent) and events[0].frame.frame_seq == seq
        assert all(isinstance(e, ZoneEvent) for e in events[1:])
        seen += [(e.frame.frame_seq, e.zone, e.track_id, str(e.transition)) for e in events[1:]]  # type: ignore[union-attr]
    walker, stander = 1, 2
    assert [(zone, track, kind) for _, zone, track, kind in seen] == [
        ("centre_box", stander, "enter"),
        ("penalty_area_left", walker, "enter"),
        ("penalty_area_left", walker, "leave"),
    ]
    raw_enter = next(i for i, x in enumerate(path) if x <= 16.5)
    raw_leave = next(i for i, x in enumerate(path) if i > 32 and x > 16.5)
    assert seen[0][0] == 0
    assert raw_enter <= seen[1][0] <= raw_enter + 2  # the smoothed position lags the raw one by about a frame
    assert raw_leave <= seen[2][0] <= raw_leave + 2


def test_a_track_that_ends_leaves_its_zones() -> None:
    builder = EventBuilder("cam", "run", Tracker(), camera())
    builder.detections(inferred(0, [person(5.0, 34.0)]), 0.0)
    events: list[object] = []
    for seq in range(1, 40):  # unseen for longer than the tracker's max age
        events += builder.detections(inferred(seq, []), 0.0)[1:]
    assert [(e.zone, e.transition) for e in events] == [("penalty_area_left", ZoneTransition.LEAVE)]  # type: ignore[attr-defined]


def test_the_ball_stands_at_its_box_centre() -> None:
    names = Detections.from_rows(np.zeros((1, 6), np.float32)).class_names()
    settings = camera()
    assert settings.pitch is not None
    ball_camera = CameraSettings(pitch=CameraPitch(settings.pitch.template, settings.pitch.calibration,
                                                   (WIDTH, HEIGHT), ball_classes=(names[0],)))  # fmt: skip
    event = EventBuilder("cam", "run", Tracker(), ball_camera).detections(inferred(0, [person(20.0, 30.0)]), 0.0)
    point = event[0].detections[0].pitch  # type: ignore[union-attr]
    assert point is not None and point.y_m == pytest.approx(29.0, abs=1e-3)  # the box centre, 1 m above the feet


def test_the_sources_own_capture_time_reaches_the_event() -> None:
    work = inferred(3, [person(20.0, 30.0)])
    dated = Inferred(replace(work.frame, source_time=1_800_000_000.25), work.detections, 0.0, 1.0, "local")
    event = EventBuilder("cam", "run", Tracker()).detections(dated, 0.0)[0]
    assert to_json_dict(event)["source_time"] == 1_800_000_000.25
    undated = EventBuilder("cam", "run", Tracker()).detections(work, 0.0)[0]
    assert "source_time" not in to_json_dict(undated)
