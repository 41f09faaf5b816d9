import numpy as np
import pytest

from orchestrator.tracking.motion import BoxMotion, correct, initiate, predict


def _moving(velocity: tuple[float, float, float, float]) -> BoxMotion:
    motion = initiate(np.array([[100, 50, 140, 150]], np.float32))
    mean = motion.mean.copy()
    mean[0, 4:] = velocity
    return BoxMotion(mean, motion.covariance)


def test_a_new_track_reports_the_detected_box_at_rest() -> None:
    boxes = np.array([[10, 20, 50, 120], [300, 40, 320, 60]], np.float32)
    motion = initiate(boxes)
    np.testing.assert_allclose(motion.boxes(), boxes)
    assert motion.mean[:, 4:].tolist() == [[0.0] * 4] * 2


def test_prediction_moves_the_box_by_velocity_times_gap() -> None:
    predicted = predict(_moving((6.0, -2.0, 0.0, 0.0)), 5)
    np.testing.assert_allclose(predicted.boxes(), [[130, 40, 170, 140]])


def test_a_gap_of_k_frames_equals_k_single_steps() -> None:
    start = _moving((6.0, -2.0, 0.0, 0.0))
    stepped = start
    for _ in range(7):
        stepped = predict(stepped, 1)
    jumped = predict(start, 7)
    np.testing.assert_allclose(jumped.mean, stepped.mean)
    np.testing.assert_allclose(jumped.covariance, stepped.covariance)


def test_uncertainty_grows_with_the_gap() -> None:
    start = _moving((0.0, 0.0, 0.0, 0.0))
    short, long = predict(start, 1), predict(start, 10)
    assert long.covariance[0, 0, 0] > short.covariance[0, 0, 0] > start.covariance[0, 0, 0]


def test_the_filter_learns_a_constant_velocity_from_detections() -> None:
    box = np.array([[100, 50, 140, 150]], np.float32)
    motion = initiate(box)
    for frame in range(1, 16):
        motion = correct(predict(motion, 1), box + np.array([9.0 * frame, 3.0 * frame, 9.0 * frame, 3.0 * frame]))
    assert motion.mean[0, 4] == pytest.approx(9.0, abs=0.5)
    assert motion.mean[0, 5] == pytest.approx(3.0, abs=0.5)
    np.testing.assert_allclose(predict(motion, 1).boxes(), box + np.array([144.0, 48.0, 144.0, 48.0]), atol=2.0)


def test_a_correction_lands_between_prediction_and_detection() -> None:
    motion = predict(initiate(np.array([[0, 0, 40, 100]], np.float32)), 1)
    corrected = correct(motion, np.array([[10, 0, 50, 100]], np.float32))
    assert 0.0 < corrected.mean[0, 0] - 20.0 < 10.0
    assert corrected.covariance[0, 0, 0] < motion.covariance[0, 0, 0]


def test_shrinking_boxes_never_reach_zero_size() -> None:
    predicted = predict(_moving((0.0, 0.0, -30.0, -30.0)), 10)
    boxes = predicted.boxes()
    assert (boxes[:, 2:] - boxes[:, :2] >= 1.0).all()
