import cv2
import numpy as np

from orchestrator.vision.nms import nms_classwise


def test_overlapping_boxes_of_one_class_keep_the_best() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    keep = nms_classwise(boxes, np.array([0.6, 0.9, 0.5], np.float32), np.zeros(3, np.int32), 0.5, 100)
    assert keep.tolist() == [1, 2]


def test_classes_never_suppress_each_other() -> None:
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], np.float32)
    keep = nms_classwise(boxes, np.array([0.9, 0.8], np.float32), np.array([0, 32], np.int32), 0.5, 100)
    assert keep.tolist() == [0, 1]


def test_max_detections_caps_the_result() -> None:
    boxes = np.array([[i * 20, 0, i * 20 + 10, 10] for i in range(10)], np.float32)
    keep = nms_classwise(boxes, np.linspace(0.9, 0.5, 10).astype(np.float32), np.zeros(10, np.int32), 0.5, 3)
    assert keep.tolist() == [0, 1, 2]


def test_empty_input() -> None:
    assert (
        nms_classwise(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int32), 0.5, 10).size == 0
    )


def test_agrees_with_opencv_on_random_boxes() -> None:
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 300, (400, 2))
    wh = rng.uniform(5, 80, (400, 2))
    boxes = np.hstack([xy, xy + wh]).astype(np.float32)
    scores = rng.uniform(0.35, 1, 400).astype(np.float32)
    classes = rng.integers(0, 3, 400).astype(np.int32)
    ours = nms_classwise(boxes, scores, classes, 0.5, 1000)
    theirs = cv2.dnn.NMSBoxesBatched(np.hstack([xy, wh]).tolist(), scores.tolist(), classes.tolist(), 0.0, 0.5)
    assert sorted(ours.tolist()) == sorted(np.array(theirs).reshape(-1).tolist())
