"""Track-id behaviour of Tracker on synthetic detections with known motion."""

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest

from orchestrator.tracking import Tracker, TrackerConfig

PERSON, BALL = 0, 32


def _frame(
    *boxes: tuple[float, float, float, float], score: float = 0.9, class_id: int = PERSON
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.int32]]:
    n = len(boxes)
    return np.array(boxes, np.float32).reshape(n, 4), np.full(n, score, np.float32), np.full(n, class_id, np.int32)


def _person_at(x: float, y: float = 100.0) -> tuple[float, float, float, float]:
    """A 40 x 100 box with its top-left corner at (x, y)."""
    return (x, y, x + 40.0, y + 100.0)


def test_every_detection_gets_a_positive_id_at_once() -> None:
    ids = Tracker().update(*_frame(_person_at(0), _person_at(200), _person_at(400)))
    assert ids.dtype == np.int64
    assert ids.tolist() == [1, 2, 3]


def test_a_walking_person_keeps_one_id() -> None:
    tracker = Tracker()
    ids = [int(tracker.update(*_frame(_person_at(100 + 7 * t)))[0]) for t in range(50)]
    assert set(ids) == {1}


def test_two_people_crossing_paths_keep_their_ids() -> None:
    tracker = Tracker()
    history = []
    for t in range(40):
        left_to_right, right_to_left = _person_at(100 + 8 * t, 100), _person_at(420 - 8 * t, 120)
        history.append(tracker.update(*_frame(left_to_right, right_to_left)).tolist())
    # They overlap for about ten frames around t = 20 (IoU up to 0.67).
    assert all(ids == [1, 2] for ids in history)


def test_a_person_hidden_while_crossing_behind_another_keeps_the_id() -> None:
    tracker = Tracker()
    for t in range(40):
        front, behind = _person_at(100 + 8 * t, 120), _person_at(420 - 8 * t, 100)
        hidden = 17 <= t <= 23
        ids = tracker.update(*_frame(front) if hidden else _frame(front, behind)).tolist()
        assert ids == ([1] if hidden else [1, 2])


def test_a_missed_detection_keeps_the_id_up_to_max_age_frames() -> None:
    tracker = Tracker(TrackerConfig(max_age_frames=5))
    for t in range(10):
        tracker.update(*_frame(_person_at(100 + 5 * t)))
    for _ in range(5):
        assert tracker.update(*_frame()).size == 0
    assert tracker.update(*_frame(_person_at(100 + 5 * 15))).tolist() == [1]


def test_a_track_unseen_for_more_than_max_age_frames_is_gone() -> None:
    tracker = Tracker(TrackerConfig(max_age_frames=5))
    for t in range(10):
        tracker.update(*_frame(_person_at(100 + 5 * t)))
    for _ in range(6):
        tracker.update(*_frame())
    assert tracker.live_tracks == 0
    assert tracker.update(*_frame(_person_at(100 + 5 * 16))).tolist() == [2]


def test_classes_never_share_an_id() -> None:
    tracker = Tracker()
    same_place = _person_at(100)
    boxes = np.array([same_place, same_place], np.float32)
    first = tracker.update(boxes, np.array([0.9, 0.9], np.float32), np.array([PERSON, BALL], np.int32))
    assert first.tolist() == [1, 2]
    # The person disappears; a ball detected exactly where the person was does not take the person's id.
    assert tracker.update(*_frame(same_place, class_id=BALL)).tolist() == [2]
    assert tracker.update(*_frame(_person_at(300), class_id=BALL)).tolist() == [3]


def test_a_frame_gap_lets_a_fast_mover_keep_its_id() -> None:
    speed, gap = 15.0, 4  # 60 px between updates: a 40 px wide box no longer overlaps where it was
    tracker = Tracker()
    ids = [int(tracker.update(*_frame(_person_at(speed * t)))[0]) for t in range(8)]
    for t in range(8 + gap, 60, gap):
        ids.append(int(tracker.update(*_frame(_person_at(speed * t)), frame_gap=gap)[0]))
    assert set(ids) == {1}


def test_ignoring_the_frame_gap_loses_a_fast_mover() -> None:
    speed, gap = 15.0, 4
    tracker = Tracker()
    for t in range(8):
        tracker.update(*_frame(_person_at(speed * t)))
    ids = [int(tracker.update(*_frame(_person_at(speed * t)), frame_gap=1)[0]) for t in range(8 + gap, 60, gap)]
    assert ids[0] != 1


def test_ids_are_never_reused() -> None:
    tracker = Tracker(TrackerConfig(max_age_frames=0))
    seen: list[int] = []
    for t in range(30):
        # Objects that live for one frame each, at alternating places: every track dies before the next frame.
        x = 0.0 if t % 2 else 500.0
        ids = tracker.update(*_frame(_person_at(x), _person_at(x + 100)))
        seen.extend(ids.tolist())
    assert len(seen) == len(set(seen)) == 60
    assert seen == sorted(seen)
    assert tracker.live_tracks == 2


def test_a_low_score_detection_continues_a_track() -> None:
    tracker = Tracker(TrackerConfig(high_score=0.5))
    tracker.update(*_frame(_person_at(100), score=0.9))
    assert tracker.update(*_frame(_person_at(104), score=0.4)).tolist() == [1]


def test_a_confident_detection_takes_the_track_before_a_weak_duplicate() -> None:
    tracker = Tracker(TrackerConfig(high_score=0.5))
    tracker.update(*_frame(_person_at(100)))
    # The weak box overlaps the track better, but confident detections are associated first.
    boxes = np.array([_person_at(100), _person_at(110)], np.float32)
    ids = tracker.update(boxes, np.array([0.4, 0.8], np.float32), np.array([PERSON, PERSON], np.int32))
    assert ids.tolist() == [2, 1]


def test_empty_frames_return_no_ids_and_keep_tracks_alive() -> None:
    tracker = Tracker()
    assert tracker.update(*_frame()).shape == (0,)
    tracker.update(*_frame(_person_at(100)))
    ids = tracker.update(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int32))
    assert ids.shape == (0,)
    assert ids.dtype == np.int64
    assert tracker.live_tracks == 1
    assert tracker.update(*_frame(_person_at(100))).tolist() == [1]


def test_dead_tracks_are_dropped() -> None:
    tracker = Tracker(TrackerConfig(max_age_frames=3))
    tracker.update(*_frame(*(_person_at(50 * i) for i in range(12))))
    assert tracker.live_tracks == 12
    tracker.update(*_frame(), frame_gap=4)
    assert tracker.live_tracks == 0


def test_tentative_tracks_die_at_their_first_miss_with_min_hits() -> None:
    tracker = Tracker(TrackerConfig(min_hits=2))
    tracker.update(*_frame(_person_at(100), _person_at(400)))
    tracker.update(*_frame(_person_at(100)))
    assert tracker.live_tracks == 1
    assert tracker.update(*_frame(_person_at(100), _person_at(400))).tolist() == [1, 3]


@pytest.mark.parametrize(
    ("boxes", "scores", "class_ids", "gap", "message"),
    [
        (np.zeros((2, 4)), np.zeros(2), np.zeros(2), 0, "frame_gap"),
        (np.zeros((2, 5)), np.zeros(2), np.zeros(2), 1, r"\(N, 4\)"),
        (np.zeros((2, 4)), np.zeros(3), np.zeros(2), 1, "disagree"),
    ],
)
def test_malformed_input_is_rejected(
    boxes: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
    class_ids: npt.NDArray[np.int32],
    gap: int,
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        Tracker().update(boxes, scores, class_ids, frame_gap=gap)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: TrackerConfig(iou_threshold=0.0), "iou_threshold"),
        (lambda: TrackerConfig(low_iou_threshold=1.5), "low_iou_threshold"),
        (lambda: TrackerConfig(high_score=-0.1), "high_score"),
        (lambda: TrackerConfig(max_age_frames=-1), "max_age_frames"),
        (lambda: TrackerConfig(min_hits=0), "min_hits"),
    ],
)
def test_invalid_config_is_rejected(make: Callable[[], TrackerConfig], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        make()
