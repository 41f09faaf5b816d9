"""Calibration, pitch positions, motion and zones against a known camera: a broadcast-like view of a football pitch.

The truth is the camera's own homography: players stand at known pitch positions, their boxes are drawn where
the camera sees them (feet at the bottom-centre), and the pipeline's mapping must land back on the truth.
"""

import cv2
import numpy as np
import pytest

from orchestrator.events.model import ZoneTransition
from orchestrator.pitch.calibration import CalibrationError, fit_calibration, from_homography
from orchestrator.pitch.positions import TrackMotion, anchor_points, pitch_positions
from orchestrator.pitch.templates import football, template
from orchestrator.pitch.zones import ZoneTracker

IMAGE = (1280, 720)
PITCH_CORNERS = np.array([[0, 0], [105, 0], [105, 68], [0, 68]], np.float64)
IMAGE_CORNERS = np.array([[120, 690], [1160, 690], [900, 210], [380, 210]], np.float64)
PITCH_TO_IMAGE = cv2.getPerspectiveTransform(PITCH_CORNERS.astype(np.float32), IMAGE_CORNERS.astype(np.float32))
BALL = 32


def to_image(pitch_xy: np.ndarray) -> np.ndarray:
    return cv2.perspectiveTransform(pitch_xy.reshape(-1, 1, 2).astype(np.float64), PITCH_TO_IMAGE).reshape(-1, 2)


def landmarks() -> tuple[np.ndarray, np.ndarray]:
    """Pitch landmarks a person would click: corners, halfway line ends, centre spot, penalty spots."""
    pitch = np.array([*PITCH_CORNERS, [52.5, 0], [52.5, 68], [52.5, 34], [11, 34], [94, 34]], np.float64)
    return to_image(pitch), pitch


def players(count: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (N, 4) as the camera sees people standing at known pitch positions (N, 2)."""
    rng = np.random.default_rng(seed)
    truth = np.column_stack([rng.uniform(2, 103, count), rng.uniform(2, 66, count)])
    feet = to_image(truth)
    height = 40 + 0.12 * (feet[:, 1] - 200)  # nearer the camera, taller
    boxes = np.column_stack([feet[:, 0] - height / 5, feet[:, 1] - height, feet[:, 0] + height / 5, feet[:, 1]])
    return boxes.astype(np.float32), truth


def test_positions_land_on_the_truth_from_a_click_calibration() -> None:
    image, pitch = landmarks()
    clicked = image + np.random.default_rng(5).normal(0, 1.0, image.shape)  # a person clicks within a pixel or so
    calibration = fit_calibration(clicked, pitch, IMAGE)
    assert calibration.inliers == calibration.pairs == len(pitch) and calibration.reprojection_error_m < 0.5
    boxes, truth = players(22)
    found = pitch_positions(calibration, football(), boxes, np.zeros(22, np.int32), {BALL})
    errors = np.linalg.norm(found.xy_m - truth, axis=1)
    assert np.median(errors) <= 0.5, errors
    assert found.on_pitch.all()


def test_the_ball_is_placed_by_its_centre_and_people_by_their_feet() -> None:
    boxes = np.array([[100, 100, 120, 200], [300, 300, 310, 310]], np.float32)
    anchors = anchor_points(boxes, np.array([0, BALL], np.int32), {BALL})
    np.testing.assert_allclose(anchors, [[110, 200], [305, 305]])


def test_off_the_pitch_is_flagged() -> None:
    image, pitch = landmarks()
    calibration = fit_calibration(image, pitch, IMAGE)
    feet = to_image(np.array([[52.5, 34.0], [52.5, -6.0]]))  # the centre spot; a coach 6 m beyond the touchline
    boxes = np.column_stack([feet[:, 0] - 5, feet[:, 1] - 50, feet[:, 0] + 5, feet[:, 1]]).astype(np.float32)
    found = pitch_positions(calibration, football(), boxes, np.zeros(2, np.int32), {BALL})
    assert found.on_pitch.tolist() == [True, False]


@pytest.mark.parametrize(
    ("image_points", "pitch_points", "message"),
    [
        (np.array([[100, 600], [200, 600], [300, 600]]), np.array([[0, 0], [10, 0], [20, 0]]), "at least 4"),
        (np.array([[100, 600], [200, 600], [300, 600], [400, 600]]), np.array([[0, 0], [10, 0], [20, 0], [30, 0]]),
         "one line"),
        (np.array([[100, 600], [1300, 600], [300, 300], [400, 200]]), np.array([[0, 0], [10, 0], [20, 9], [30, 5]]),
         "off the 1280x720 image"),
        (np.array([[100, 600], [100, 600], [300, 300], [400, 200]]), np.array([[0, 0], [10, 0], [20, 9], [30, 5]]),
         "identical"),
        (np.array([[100, 600], [200, 600], [300, 300], [np.nan, 200]]), np.array([[0, 0], [10, 0], [20, 9], [30, 5]]),
         "finite"),
    ],
)  # fmt: skip
def test_degenerate_calibrations_are_refused(image_points, pitch_points, message: str) -> None:
    with pytest.raises(CalibrationError, match=message):
        fit_calibration(image_points, pitch_points, IMAGE)


def test_pairs_that_disagree_are_refused() -> None:
    image, pitch = landmarks()
    wrong = pitch.copy()
    wrong[[4, 7, 8]] += [[20, 0], [0, 15], [-30, 10]]  # three pairs typed in wrong
    with pytest.raises(CalibrationError, match="agree"):
        fit_calibration(image, wrong, IMAGE)


def test_a_given_homography_that_folds_the_pitch_is_refused() -> None:
    image_to_pitch = np.linalg.inv(PITCH_TO_IMAGE)
    assert from_homography(image_to_pitch, IMAGE).homography.shape == (3, 3)
    folded = np.array([[1, 0, 0], [0, 1, 0], [0, 0.003, -1]], np.float64)  # horizon at y = 333 px
    with pytest.raises(CalibrationError, match="horizon"):
        from_homography(folded, IMAGE)
    with pytest.raises(CalibrationError, match="singular"):
        from_homography(np.zeros((3, 3)), IMAGE)


def test_a_track_running_at_5_m_s_is_measured_at_5_m_s() -> None:
    motion = TrackMotion()
    speeds = [motion.update(7, t / 25, np.array([10 + 5 * t / 25, 30.0]))[1] for t in range(50)]
    assert speeds[-1] == pytest.approx(5.0, rel=0.02)


def test_zone_events_follow_a_player_into_and_out_of_the_penalty_area() -> None:
    zones = ZoneTracker(football().zones)
    path = [np.array([x, 34.0]) for x in (30, 20, 16, 12, 8, 12, 18, 25)]  # in at x=16 (edge 16.5), out at 18
    events = [(i, e.zone, e.transition) for i, xy in enumerate(path) for e in zones.update({9: xy})]
    assert events == [(2, "penalty_area_left", ZoneTransition.ENTER), (6, "penalty_area_left", ZoneTransition.LEAVE)]
    zones.update({9: np.array([10.0, 34.0])})
    assert [(e.track_id, e.transition) for e in zones.forget([9])] == [(9, ZoneTransition.LEAVE)]


def test_templates() -> None:
    assert (template("basketball").length_m, template("basketball").width_m) == (28.0, 15.0)
    assert template("custom", 40.0, 20.0).contains(np.array([[39.0, 19.0], [41.0, 1.0]])).tolist() == [True, False]
    with pytest.raises(ValueError, match="custom pitch needs"):
        template("custom")
    with pytest.raises(ValueError, match="unknown pitch"):
        template("rugby")
