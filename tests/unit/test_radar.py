"""The radar panel: the pitch to scale, a dot per tracked position in its track's colour."""

import numpy as np
import pytest

from orchestrator.pitch.templates import basketball, football, template
from orchestrator.vision.drawing import key_color
from orchestrator.vision.radar import (
    DOT_RADIUS_PX,
    LINE_WHITE,
    MIN_PANEL_SIDE_PX,
    PITCH_GREEN,
    RUN_OFF_M,
    RadarMark,
    beside,
    draw_marks,
    draw_pitch,
    radar_scale,
)


def test_the_panel_holds_the_pitch_and_its_run_off_to_scale() -> None:
    pitch = football()
    scale = radar_scale(pitch, 576)
    width, height = scale.size
    assert height == 576
    assert scale.px_per_m == pytest.approx(576 / (68 + 2 * RUN_OFF_M))
    assert width == round((105 + 2 * RUN_OFF_M) * scale.px_per_m)
    run_off = RUN_OFF_M * scale.px_per_m
    assert scale.to_px(0, 0) == (round(run_off), round(height - run_off)), "the origin is the bottom-left corner"
    far_x, far_y = scale.to_px(105, 68)
    assert far_x == pytest.approx(width - run_off, abs=1)
    assert far_y == pytest.approx(run_off, abs=1), "the far touchline at the top"


def test_a_basketball_court_is_drawn_with_its_own_proportions() -> None:
    scale = radar_scale(basketball(), 300)
    assert scale.size[0] / scale.size[1] == pytest.approx((28 + 2 * RUN_OFF_M) / (15 + 2 * RUN_OFF_M), rel=0.01)


def test_a_tiny_frame_still_gets_a_readable_panel() -> None:
    assert radar_scale(football(), 20).size[1] == MIN_PANEL_SIDE_PX


def test_positions_far_off_the_pitch_stay_on_the_panel_edge() -> None:
    scale = radar_scale(football(), 200)
    assert scale.to_px(-500, -1e6) == (0, scale.size[1] - 1)
    assert scale.to_px(1e6, 1e6) == (scale.size[0] - 1, 0)


def test_the_empty_pitch_is_grass_with_white_lines_where_the_template_says() -> None:
    pitch = football()
    scale = radar_scale(pitch, 400)
    panel = draw_pitch(pitch, scale)
    assert panel.shape == (scale.size[1], scale.size[0], 3) and panel.dtype == np.uint8
    assert tuple(panel[5, 5]) == PITCH_GREEN, "the run-off is grass"
    corner_x, corner_y = scale.to_px(0, 0)
    assert _near(panel[corner_y, corner_x + 20], LINE_WHITE), "the near touchline"
    far_x, far_y = scale.to_px(105, 68)
    assert _near(panel[far_y, far_x - 20], LINE_WHITE), "the far touchline"
    halfway_x, mid_y = scale.to_px(52.5, 20)
    assert _near(panel[mid_y, halfway_x], LINE_WHITE), "the halfway line"
    box_x, box_y = scale.to_px(16.5, 34)
    assert _near(panel[box_y, box_x], LINE_WHITE), "the penalty area's edge"
    inside_x, inside_y = scale.to_px(30, 34)
    assert tuple(panel[inside_y, inside_x]) == PITCH_GREEN


def test_a_custom_pitch_without_zones_draws_its_outline() -> None:
    pitch = template("custom", 40.0, 20.0)
    scale = radar_scale(pitch, 120)
    panel = draw_pitch(pitch, scale)
    x, y = scale.to_px(20, 20)
    assert _near(panel[y, x], LINE_WHITE), "the far line of a 40 x 20 m pitch"


def test_each_mark_is_a_dot_in_its_tracks_colour_where_it_stands() -> None:
    pitch = football()
    scale = radar_scale(pitch, 400)
    empty = draw_pitch(pitch, scale)
    marks = [RadarMark(30.0, 20.0, True, 7), RadarMark(80.0, 50.0, True, 12)]
    panel = draw_marks(empty, scale, marks)
    for mark in marks:
        x, y = scale.to_px(mark.x_m, mark.y_m)
        assert tuple(panel[y, x]) == key_color(mark.track_id)
    assert np.array_equal(empty, draw_pitch(pitch, scale)), "the empty pitch is reused, never drawn on"


def test_a_mark_off_the_pitch_is_a_ring() -> None:
    pitch = football()
    scale = radar_scale(pitch, 400)
    panel = draw_marks(draw_pitch(pitch, scale), scale, [RadarMark(-2.0, 34.0, False, 3)])
    x, y = scale.to_px(-2.0, 34.0)
    assert tuple(panel[y, x]) == PITCH_GREEN, "hollow centre"
    assert tuple(panel[y, x - DOT_RADIUS_PX + 1]) == key_color(3)


def test_the_dot_is_labelled_with_its_track_id() -> None:
    pitch = football()
    scale = radar_scale(pitch, 400)
    empty = draw_pitch(pitch, scale)
    panel = draw_marks(empty, scale, [RadarMark(50.0, 30.0, True, 5)])
    x, y = scale.to_px(50.0, 30.0)
    label = (slice(y - 8, y + 8), slice(x + DOT_RADIUS_PX + 2, x + DOT_RADIUS_PX + 24))
    assert np.any(panel[label] != empty[label])


def test_beside_pads_the_shorter_image_below() -> None:
    left = np.full((10, 4, 3), 200, np.uint8)
    right = np.full((6, 3, 3), 100, np.uint8)
    both = beside(left, right)
    assert both.shape == (10, 7, 3)
    assert both[9, 6].tolist() == [0, 0, 0] and both[0, 6].tolist() == [100] * 3 and both[9, 0].tolist() == [200] * 3


def _near(pixel: np.ndarray, color: tuple[int, int, int], tolerance: int = 60) -> bool:
    """Anti-aliased lines blend into the grass: close to the colour, not exactly it."""
    return bool(np.all(np.abs(pixel.astype(int) - np.array(color)) <= tolerance))
