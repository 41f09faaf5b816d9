"""Per-camera settings in the config: classes, thresholds, fps cap and calibration, checked at the edge."""

import tomllib

import numpy as np
import pytest

from orchestrator.config.problems import ConfigError
from orchestrator.config.run_config import RunConfig, from_mapping

SQUARE = "[[0, 0, 0.0, 0.0], [640, 0, 32.0, 0.0], [640, 480, 32.0, 24.0], [0, 480, 0.0, 24.0]]"


def load(stream_extra: str) -> RunConfig:
    text = f'[[streams]]\nid = "cam"\nsource = "clip.mp4"\n{stream_extra}'
    return from_mapping(tomllib.loads(text), file_label="pitchside.toml")


def refused(stream_extra: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(stream_extra)
    return str(caught.value)


def test_classes_thresholds_and_fps_cap_reach_the_camera() -> None:
    config = load('classes = ["person", "ball"]\nscore_thresholds = {"person" = 0.6, "*" = 0.4}\nmax_fps = 12.5\n')
    camera = config.camera_for(config.streams[0])
    assert camera.classes == {"person", "ball"} and camera.max_fps == 12.5
    scores = np.array([0.5, 0.7, 0.45, 0.45], np.float32)
    assert camera.keeps(("person", "person", "ball", "referee"), scores).tolist() == [False, True, True, False]
    assert camera.pitch is None


def test_a_calibration_from_point_pairs_maps_the_image_onto_the_pitch() -> None:
    config = load(f'[streams.pitch]\ntemplate = "custom"\nlength_m = 32.0\nwidth_m = 24.0\nimage_size = [640, 480]\n'
                  f'points = {SQUARE}\nzones = {{goal = [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0]]}}\n')  # fmt: skip
    pitch = config.camera_for(config.streams[0]).pitch
    assert pitch is not None
    assert pitch.calibration.to_pitch(np.array([[320.0, 240.0]])) == pytest.approx(np.array([[16.0, 12.0]]))
    assert pitch.calibration.reprojection_error_m == pytest.approx(0.0, abs=1e-6)
    assert set(pitch.zones) == {"goal"} and "reprojection error 0.000 m" in pitch.describe()


def test_a_homography_is_taken_as_given_on_a_standard_template() -> None:
    config = load('[streams.pitch]\ntemplate = "basketball"\nimage_size = [280, 150]\n'
                  'homography = [[0.1, 0, 0], [0, 0.1, 0], [0, 0, 1]]\n')  # fmt: skip
    pitch = config.camera_for(config.streams[0]).pitch
    assert pitch is not None and pitch.template.length_m == 28.0 and "key_left" in pitch.zones
    assert pitch.calibration.to_pitch(np.array([[140.0, 75.0]])) == pytest.approx(np.array([[14.0, 7.5]]))


@pytest.mark.parametrize(
    ("pitch", "message"),
    [
        ("points = [[0, 0, 0, 0], [10, 10, 1, 1], [20, 20, 2, 2], [30, 30, 3, 3], [40, 40, 4, 4]]", "one line"),
        ("points = [[0, 0, 0, 0], [640, 0, 32, 0], [640, 480, 32, 24]]", "at least 4 point pairs"),
        ("points = [[0, 0, 0, 0], [900, 0, 32, 0], [640, 480, 32, 24], [0, 480, 0, 24]]", "off the 640x480 image"),
        (f"points = {SQUARE}\nhomography = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]", "not both or neither"),
        ("", "not both or neither"),
        ("homography = [[1, 0, 0], [0, 1, 0], [0, 0, 0]]", "singular"),
        ("homography = [[1, 0, 0], [0, 1, 0], [0.01, 0, -1]]", "horizon inside the image"),
        (
            "points = [[0, 0, 0, 0], [640, 0, 32, 0], [640, 480, 32, 24], [0, 480, 0, 24], [320, 240, 30, 2],"
            " [100, 300, 2, 20]]",
            "agree with one homography",
        ),
    ],
)
def test_degenerate_or_inconsistent_calibrations_are_refused_with_the_key_path(pitch: str, message: str) -> None:
    text = refused(f"[streams.pitch]\nimage_size = [640, 480]\n{pitch}\n")
    assert "streams[0]" in text and message in text, text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("max_fps = 0\n", "streams[0].max_fps"),
        ('score_thresholds = {"person" = 1.5}\n', "streams[0].score_thresholds.person"),
        ('classes = "person"\n', "streams[0].classes"),
        (f"[streams.pitch]\nimage_size = [640]\npoints = {SQUARE}\n", "streams[0].pitch.image_size"),
        (f"[streams.pitch]\nimage_size = [640, 480]\npoints = {SQUARE}\ncolour = 1\n", "streams[0].pitch.colour"),
        (f'[streams.pitch]\ntemplate = "rugby"\nimage_size = [640, 480]\npoints = {SQUARE}\n', "template"),
    ],
)
def test_wrong_camera_settings_name_their_key(extra: str, message: str) -> None:
    text = refused(extra)
    assert message in text, text


def test_annotate_is_a_folder_not_a_video_file_name() -> None:
    with pytest.raises(ConfigError, match="annotate: a folder for one video per stream"):
        from_mapping(tomllib.loads('annotate = "out/match.mp4"\n[[streams]]\nsource = "clip.mp4"\n'))
    config = from_mapping(tomllib.loads('annotate = "out/videos"\n[[streams]]\nsource = "clip.mp4"\n'))
    assert config.annotate is not None and config.annotate.name == "videos"
