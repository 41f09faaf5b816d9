import numpy as np
import pytest

from orchestrator.tracking.association import greedy_match, iou_matrix


def test_iou_of_known_overlaps() -> None:
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
    iou = iou_matrix(a, b)
    assert iou.shape == (2, 3)
    assert iou.dtype == np.float32
    assert iou[0].tolist() == pytest.approx([1.0, 50 / 150, 0.0])


def test_degenerate_boxes_have_zero_iou_even_with_themselves() -> None:
    flat = np.array([[5, 5, 5, 15]], np.float32)
    assert iou_matrix(flat, flat).tolist() == [[0.0]]


def test_iou_of_empty_sets_has_the_right_shape() -> None:
    assert iou_matrix(np.zeros((0, 4), np.float32), np.zeros((3, 4), np.float32)).shape == (0, 3)
    assert iou_matrix(np.zeros((2, 4), np.float32), np.zeros((0, 4), np.float32)).shape == (2, 0)


def test_greedy_match_takes_the_best_pair_first() -> None:
    affinity = np.array([[0.9, 0.8], [0.85, 0.1]], np.float32)
    # Row 0 takes column 0 (0.9); row 1 is left with column 1, below the threshold.
    assert greedy_match(affinity, 0.3).tolist() == [[0, 0]]


def test_greedy_match_is_one_to_one_and_respects_the_threshold() -> None:
    affinity = np.array([[0.7, 0.6, 0.0], [0.65, 0.0, 0.0], [0.0, 0.0, 0.25]], np.float32)
    pairs = greedy_match(affinity, 0.3)
    assert pairs.tolist() == [[0, 0]]
    assert greedy_match(affinity, 0.2).tolist() == [[0, 0], [2, 2]]


def test_greedy_match_of_nothing_is_an_empty_pair_list() -> None:
    pairs = greedy_match(np.zeros((0, 5), np.float32), 0.3)
    assert pairs.shape == (0, 2)
