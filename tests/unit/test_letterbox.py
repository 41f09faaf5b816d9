import numpy as np
import pytest

from orchestrator.vision.letterbox import Letterbox, letterbox, plan_letterbox


@pytest.mark.parametrize(
    ("width", "height", "scale", "pad_x", "pad_y"),
    [(640, 480, 0.65, 0, 52), (480, 640, 0.65, 52, 0), (416, 416, 1.0, 0, 0), (1768, 994, 416 / 1768, 0, 91)],
)
def test_plan_centres_the_frame(width: int, height: int, scale: float, pad_x: int, pad_y: int) -> None:
    plan = plan_letterbox(width, height, 416)
    assert plan.scale == pytest.approx(scale)
    assert (plan.pad_x, plan.pad_y) == (pad_x, pad_y)


def test_letterbox_places_resized_frame_on_black_padding() -> None:
    frame = np.full((480, 640, 3), 200, np.uint8)
    boxed, plan = letterbox(frame, 416)
    assert boxed.shape == (416, 416, 3) and boxed.dtype == np.uint8
    assert (boxed[: plan.pad_y] == 0).all() and (boxed[416 - plan.pad_y :] == 0).all()
    assert (boxed[plan.pad_y : 416 - plan.pad_y] == 200).all()


def test_tiny_frame_is_upscaled() -> None:
    boxed, plan = letterbox(np.full((2, 3, 3), 9, np.uint8), 416)
    assert plan.scale == pytest.approx(416 / 3)
    assert boxed[208, 208].tolist() == [9, 9, 9]


def test_letterbox_round_trips_through_its_tensor() -> None:
    plan = Letterbox(0.65, 0, 52, 640, 480)
    back = Letterbox.from_array(plan.as_array())
    assert back.scale == pytest.approx(plan.scale, rel=1e-7)  # float32 on the wire
    assert (back.pad_x, back.pad_y, back.source_width, back.source_height) == (0, 52, 640, 480)
