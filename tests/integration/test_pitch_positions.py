"""Synthetic footage through a known camera homography, through the real detector and pipeline: the pitch
positions in the events against the truth, in metres.

Players are a real person (cut from the first frame of media/sports2d_demo.mp4) pasted onto a green pitch at
known pitch positions, scaled to their distance from the camera, walking straight lines. The calibration comes
from the config file's point pairs, as a user would give it.
"""

import asyncio
import tomllib
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from orchestrator.config.run_config import ConfigError, Mode, from_mapping
from orchestrator.paths import MEDIA_DIR
from tests.pipeline_run import of_stream, run_and_read, session_config

pytestmark = pytest.mark.integration

SIZE = (1280, 720)
FPS = 5.0
FRAMES = 12
PAIRS = [  # image pixel -> pitch metres: a camera above the touchline looking at 8 x 6 m of the pitch
    ((100.0, 700.0), (44.0, 42.0)),
    ((1180.0, 700.0), (52.0, 42.0)),
    ((1000.0, 220.0), (52.0, 36.0)),
    ((280.0, 220.0), (44.0, 36.0)),
]
PERSON_BOX = (586, 70, 721, 466)
"""x1, y1, x2, y2 of the person in the first frame of sports2d_demo.mp4 (feet at the bottom edge)."""
PERSON_HEIGHT_M = 1.8
PATHS = [  # (start, end) pitch metres of each player over the clip
    ((44.8, 41.2), (48.6, 40.6)),
    ((51.4, 39.0), (49.2, 38.2)),
    ((45.6, 37.4), (46.4, 37.0)),
]
ZONE = "[[48.0, 36.0], [50.0, 36.0], [50.0, 42.0], [48.0, 42.0]]"
"""Players 0 and 1 walk into it; player 2 stays outside."""


def truth(frame: int) -> npt.NDArray[np.float64]:
    t = frame / (FRAMES - 1)
    return np.array([np.add(np.multiply(a, 1 - t), np.multiply(b, t)) for a, b in PATHS])


def pitch_to_image() -> npt.NDArray[np.float64]:
    image = np.array([p[0] for p in PAIRS], np.float64)
    pitch = np.array([p[1] for p in PAIRS], np.float64)
    return np.asarray(cv2.getPerspectiveTransform(pitch.astype(np.float32), image.astype(np.float32)), np.float64)


def project(homography: npt.NDArray[np.float64], points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(cv2.perspectiveTransform(points.reshape(-1, 1, 2), homography).reshape(-1, 2), np.float64)


def person_sprite() -> npt.NDArray[np.uint8]:
    capture = cv2.VideoCapture(str(MEDIA_DIR / "sports2d_demo.mp4"))
    ok, frame = capture.read()
    capture.release()
    assert ok
    x1, y1, x2, y2 = PERSON_BOX
    return np.ascontiguousarray(frame[y1:y2, x1:x2])


def render(path: Path) -> None:
    """The clip: a striped green pitch, and each player with its feet at its true position."""
    homography = pitch_to_image()
    sprite = person_sprite()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, SIZE)
    for frame_index in range(FRAMES):
        canvas = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
        canvas[:] = (60, 140, 60)
        canvas[::80] = (70, 155, 70)
        feet = project(homography, truth(frame_index))
        order = np.argsort(feet[:, 1])  # far players first, near ones drawn over them
        for (fx, fy), position in zip(feet[order], truth(frame_index)[order], strict=True):
            side = project(homography, np.array([position, position + np.array([1.0, 0.0])]))
            px_per_m = float(np.linalg.norm(side[1] - side[0]))
            height = round(PERSON_HEIGHT_M * px_per_m * 1.1)
            width = round(height * sprite.shape[1] / sprite.shape[0])
            scaled = cv2.resize(sprite, (width, height), interpolation=cv2.INTER_AREA)
            left, top = round(fx - width / 2), round(fy - height)
            canvas[top : top + height, left : left + width] = scaled
        writer.write(canvas)
    writer.release()


def calibrated_config(tmp_path: Path, clip: Path, grpc_url: str):  # type: ignore[no-untyped-def]
    points = ", ".join(f"[{u}, {v}, {x}, {y}]" for (u, v), (x, y) in PAIRS)
    text = (
        f'[[streams]]\nid = "touchline"\nsource = "{clip}"\n'
        f'[streams.pitch]\ntemplate = "football"\nimage_size = [{SIZE[0]}, {SIZE[1]}]\npoints = [{points}]\n'
        f"zones = {{box = {ZONE}}}\n"
    )
    return run_config(tmp_path, text, grpc_url)


def run_config(tmp_path: Path, streams_toml: str, grpc_url: str):  # type: ignore[no-untyped-def]
    """An offline run of the streams (and their camera settings) in ``streams_toml`` into tmp_path's sink."""
    loaded = from_mapping(tomllib.loads(streams_toml))
    base = session_config(tmp_path, loaded.streams, grpc_url, Mode.OFFLINE)
    return replace(base, per_stream=loaded.per_stream)


def test_pitch_positions_from_real_detections_match_the_truth(tmp_path: Path, grpc_url: str) -> None:
    clip = tmp_path / "touchline.avi"
    render(clip)
    _, events = asyncio.run(run_and_read(calibrated_config(tmp_path, clip, grpc_url)))
    frames = of_stream(events, "touchline", "detections")
    assert len(frames) == FRAMES
    errors, found = [], 0
    for event in frames:
        people = [d for d in event["detections"] if d["class_name"] == "person"]
        assert all("pitch" in d for d in event["detections"])
        positions = np.array([[d["pitch"]["x_m"], d["pitch"]["y_m"]] for d in people]).reshape(-1, 2)
        for true_xy in truth(event["frame_seq"]):
            if len(positions):
                nearest = float(np.min(np.linalg.norm(positions - true_xy, axis=1)))
                if nearest < 2.0:
                    errors.append(nearest)
                    found += 1
    assert found >= 0.9 * FRAMES * len(PATHS), f"found {found} of {FRAMES * len(PATHS)} player positions"
    median = float(np.median(errors))
    assert median <= 0.5, f"median pitch error {median:.2f} m"
    assert all(d["pitch"]["on_pitch"] for e in frames for d in e["detections"] if d["class_name"] == "person")


def test_a_player_walking_into_a_zone_raises_one_enter_event_after_its_frame(tmp_path: Path, grpc_url: str) -> None:
    """Players 0 and 1 walk into the zone from either side; player 2 stays outside. Zone events follow their
    frame's detections event and name a track seen on it."""
    clip = tmp_path / "touchline.avi"
    render(clip)
    _, events = asyncio.run(run_and_read(calibrated_config(tmp_path, clip, grpc_url)))
    stream = of_stream(events, "touchline")
    zone_events = [e for e in stream if e["type"] == "zone"]
    entered = [e for e in zone_events if e["zone"]["transition"] == "enter"]
    assert {e["zone"]["name"] for e in zone_events} == {"box"}
    assert len(entered) == 2 and entered[0]["zone"]["track_id"] != entered[1]["zone"]["track_id"]
    for zone_event in zone_events:
        index = stream.index(zone_event)
        before = [e for e in stream[:index] if e["type"] == "detections"]
        assert before and before[-1]["frame_seq"] == zone_event["frame_seq"]
        track_ids = {d["track_id"] for d in before[-1]["detections"]}
        assert zone_event["zone"]["track_id"] in track_ids or zone_event["zone"]["transition"] == "leave"


def test_a_camera_class_the_model_does_not_have_stops_the_run_before_any_frame(tmp_path: Path, grpc_url: str) -> None:
    clip = tmp_path / "touchline.avi"
    render(clip)
    config = run_config(
        tmp_path, f'[[streams]]\nid = "touchline"\nsource = "{clip}"\nclasses = ["unicorn"]\n', grpc_url
    )
    with pytest.raises(ConfigError, match=r"stream touchline: classes \['unicorn'\] are not the model's .*person"):
        asyncio.run(run_and_read(config))
    assert not (tmp_path / "events.jsonl").exists() or not (tmp_path / "events.jsonl").read_text().strip()
