"""The annotated videos as people watch them: played in a real headless Chromium, one per stream, at each
source's own frame rate, with the boxes (and, for a calibrated stream, the pitch radar) on screen."""

import json
import re
import subprocess
import sys
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
import pytest

from orchestrator.events.model import (
    DetectionEvent,
    FrameContext,
    ModelRef,
    PitchPoint,
    StageLatency,
    TrackedDetection,
)
from orchestrator.paths import MEDIA_DIR
from orchestrator.pipeline.annotated_video import AnnotatedVideoWriter
from orchestrator.pitch.templates import football
from orchestrator.sources.frame import Frame
from orchestrator.vision.drawing import key_color
from orchestrator.vision.radar import PITCH_GREEN, radar_scale
from tests.browser import MISSING, Chromium, chromium_binary, play_video

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

COLOR_TOLERANCE = 40
"""Per channel, after VP9 at its quality setting and 4:2:0 chroma: a drawn colour comes back this close."""


@pytest.fixture(scope="module")
def browser() -> Chromium:
    binary = chromium_binary()
    if binary is None:
        pytest.fail(MISSING)
    with Chromium(binary) as chromium:
        yield chromium


def test_pitchside_run_writes_one_video_per_stream_at_its_sources_rate_that_plays_in_chromium(
    grpc_url: str, tmp_path: Path, browser: Chromium
) -> None:
    frames = 24
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "run", "--triton-url", grpc_url, "--offline", "--metrics-port", "0",
         "--max-frames", str(frames), "--sink", f"jsonl:{tmp_path / 'events.jsonl'}", "--annotate", "videos",
         "--source", f"walk={MEDIA_DIR / 'vtest.avi'}", "--source", f"grass={MEDIA_DIR / 'sports2d_demo.mp4'}"],
        capture_output=True, text=True, timeout=240, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    videos = tmp_path / "videos"
    assert sorted(p.name for p in videos.iterdir()) == ["grass.webm", "walk.webm"]
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]

    for stream, source in (("walk", "vtest.avi"), ("grass", "sports2d_demo.mp4")):
        path = videos / f"{stream}.webm"
        source_fps = _declared_fps(MEDIA_DIR / source)
        assert source_fps in (10.0, 30.0)
        assert _declared_fps(path) == source_fps, "the video runs at its source's rate"
        assert _frame_count(path) == frames, "one video frame per frame processed"
        width, height = _size(path)

        shown_at = 5  # a frame whose detections we know, shown in the middle of its time on screen
        played = play_video(browser, videos, path.name, (width, height), (shown_at + 0.5) / source_fps)
        assert played["error"] is None
        assert (played["width"], played["height"]) == (width, height)
        assert played["duration"] == pytest.approx(frames / source_fps, abs=1.0 / source_fps)
        assert played["ended_at"] == pytest.approx(played["duration"], abs=1.0 / source_fps), "played to the end"
        assert played["shown_at"] == pytest.approx((shown_at + 0.5) / source_fps, abs=0.01)
        assert played["frames_shown"] > 0
        screen = browser.screenshot()
        assert screen.shape[:2] == (height, width)
        decoded = _frame(path, shown_at)
        assert np.abs(screen.astype(int) - decoded.astype(int)).mean() < 6, "the browser shows the file's frame"

        event = next(e for e in events if e["stream_id"] == stream and e["frame_seq"] == shown_at)
        assert event["type"] == "detections" and event["detections"], f"{stream}: nothing detected to look for"
        detection = max(event["detections"], key=lambda d: d["score"])
        x1, y1, _, y2 = (round(v) for v in detection["box_xyxy"])
        edge = screen[y1 + 4 : y2 - 4, x1 : x1 + 2].reshape(-1, 3)  # the box's left edge, 2 px wide
        assert _share_near(edge, key_color(detection["track_id"])) > 0.5, f"{stream}: box not in its track's colour"


def test_pitchside_run_draws_a_calibrated_cameras_tracks_on_its_radar(
    grpc_url: str, tmp_path: Path, browser: Chromium
) -> None:
    frames = 16
    # The whole camera view mapped onto a football pitch (a plain, exact homography): every foot point is on it.
    (tmp_path / "pitchside.toml").write_text(f"""
annotate = "videos"
mode = "offline"
max_frames = {frames}
[[streams]]
id = "walk"
source = "{MEDIA_DIR / "vtest.avi"}"
[streams.pitch]
template = "football"
image_size = [768, 576]
points = [[0, 576, 0.0, 0.0], [768, 576, 105.0, 0.0], [768, 0, 105.0, 68.0], [0, 0, 0.0, 68.0]]
[[sinks]]
uri = "jsonl:events.jsonl"
""")
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "run", "--config", "pitchside.toml", "--triton-url", grpc_url,
         "--metrics-port", "0"],
        capture_output=True, text=True, timeout=240, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    path = tmp_path / "videos" / "walk.webm"
    assert _declared_fps(path) == 10.0 and _frame_count(path) == frames
    scale = radar_scale(football(), 576)
    width, height = _size(path)
    assert (width, height) == (768 + scale.size[0] + scale.size[0] % 2, 576), "the radar beside the camera view"

    shown_at = 8
    played = play_video(browser, tmp_path / "videos", path.name, (width, height), (shown_at + 0.5) / 10.0)
    assert played["error"] is None and played["duration"] == pytest.approx(frames / 10.0, abs=0.1)
    screen = browser.screenshot()
    assert _share_near(screen[:, 768:].reshape(-1, 3), PITCH_GREEN) > 0.8, "the radar is a green pitch"
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    event = next(e for e in events if e["type"] == "detections" and e["frame_seq"] == shown_at)
    assert event["detections"], "nothing detected to look for"
    on_top = event["detections"][-1]  # drawn last: no other dot or box covers it
    x, y = scale.to_px(*on_top["pitch"]["track_xy_m"])
    dot = screen[y - 2 : y + 3, 768 + x - 2 : 768 + x + 3].reshape(-1, 3)
    assert _share_near(dot, key_color(on_top["track_id"])) > 0.5, "the track's dot where the event puts it"
    x1, y1, _, y2 = (round(v) for v in on_top["box_xyxy"])
    edge = screen[y1 + 4 : y2 - 4, x1 : x1 + 2].reshape(-1, 3)
    assert _share_near(edge, key_color(on_top["track_id"])) > 0.5, "its box in the same colour"


def test_a_calibrated_streams_video_shows_the_radar_beside_the_camera_in_chromium(
    tmp_path: Path, browser: Chromium
) -> None:
    pitch = football()
    capture = cv2.VideoCapture(str(MEDIA_DIR / "vtest.avi"))
    source_fps = capture.get(cv2.CAP_PROP_FPS)
    writer = AnnotatedVideoWriter(tmp_path / "cam.webm", pitch)
    writer.start()
    frames = 30
    for seq in range(frames):
        ok, image = capture.read()
        assert ok
        writer.submit(_walkers(seq, source_fps), Frame("cam", seq, image, seq / source_fps, 0.0, 0.0, 0.0))
    writer.close()
    path = tmp_path / "cam.webm"
    assert _declared_fps(path) == source_fps and _frame_count(path) == frames
    width, height = _size(path)
    camera_width = 768
    scale = radar_scale(pitch, 576)
    assert width == camera_width + scale.size[0] + scale.size[0] % 2

    shown_at = 20
    played = play_video(browser, tmp_path, "cam.webm", (width, height), (shown_at + 0.5) / source_fps)
    assert played["error"] is None and (played["width"], played["height"]) == (width, height)
    assert played["duration"] == pytest.approx(frames / source_fps, abs=1.0 / source_fps)
    assert played["shown_at"] == pytest.approx((shown_at + 0.5) / source_fps, abs=0.01)
    screen = browser.screenshot()

    radar = screen[:, camera_width:].reshape(-1, 3)
    assert _share_near(radar, PITCH_GREEN) > 0.8, "the radar is a green pitch"
    for walker in _walkers(shown_at, source_fps).detections:
        assert walker.pitch is not None
        x, y = scale.to_px(walker.pitch.track_x_m, walker.pitch.track_y_m)
        dot = screen[y - 2 : y + 3, camera_width + x - 2 : camera_width + x + 3].reshape(-1, 3)
        assert _share_near(dot, key_color(walker.track_id)) > 0.5, f"track {walker.track_id}'s dot on the radar"
        x1, y1, _, y2 = (round(v) for v in walker.box_xyxy)
        edge = screen[y1 + 4 : y2 - 4, x1 : x1 + 2].reshape(-1, 3)
        assert _share_near(edge, key_color(walker.track_id)) > 0.5, f"track {walker.track_id}'s box"


def _walkers(seq: int, fps: float) -> DetectionEvent:
    """Three tracks crossing the pitch at known positions, with boxes where they stand in the camera view."""
    positions = [(15.0 + 30 * i + seq * 0.5, 15.0 + 18 * i) for i in range(3)]
    detections = tuple(
        TrackedDetection(
            (100.0 + 200 * i, 150.0 + 40 * i, 160.0 + 200 * i, 330.0 + 40 * i), 0.9, 0, "person", 3 + i,
            PitchPoint(x_m, y_m, True, x_m, y_m, 5.0),
        )
        for i, (x_m, y_m) in enumerate(positions)
    )  # fmt: skip
    context = FrameContext("cam", "run", seq, seq / fps, 0.0, 768, 576)
    return DetectionEvent(context, detections, StageLatency(0, 0, 0, 0), 0.0, ModelRef("detector", "1"))


def _declared_fps(path: Path) -> float:
    """The stream's frame rate as ffmpeg reads it from the container (what ffprobe calls r_frame_rate)."""
    probe = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True, timeout=60
    )
    found = re.search(r"Video: .*?, (\d+(?:\.\d+)?) fps", probe.stderr)
    assert found is not None, probe.stderr[-2000:]
    return float(found.group(1))


def _frame_count(path: Path) -> int:
    return int(imageio_ffmpeg.count_frames_and_secs(str(path))[0])


def _size(path: Path) -> tuple[int, int]:
    capture = cv2.VideoCapture(str(path))
    size = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    capture.release()
    return size


def _frame(path: Path, index: int) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    for _ in range(index + 1):
        ok, image = capture.read()
        assert ok
    capture.release()
    return np.asarray(image)


def _share_near(pixels: np.ndarray, color: tuple[int, int, int]) -> float:
    """The share of ``pixels`` (N, 3 BGR) within COLOR_TOLERANCE of ``color`` on every channel."""
    close = np.all(np.abs(pixels.astype(int) - np.array(color)) <= COLOR_TOLERANCE, axis=1)
    return float(close.mean())
