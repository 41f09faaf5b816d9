import numpy as np
import pytest

from orchestrator.vision.letterbox import plan_letterbox
from orchestrator.vision.postprocess import PostprocessConfig, postprocess
from orchestrator.vision.yolo_decode import decode_yolov8


def yolo_output(anchors: list[tuple[float, float, float, float, int, float]], classes: int = 80, total: int = 50):
    """(4 + classes, total) output with the given (cx, cy, w, h, class, score) anchors, the rest empty."""
    out = np.zeros((4 + classes, total), np.float32)
    for i, (cx, cy, w, h, cls, score) in enumerate(anchors):
        out[:4, i] = cx, cy, w, h
        out[4 + cls, i] = score
    return out


def test_decode_takes_best_class_and_converts_to_corners() -> None:
    out = yolo_output([(100, 100, 20, 40, 32, 0.8)])
    out[4 + 0, 0] = 0.5  # a weaker second class on the same anchor
    cand = decode_yolov8(out, np.full(80, 0.35, np.float32))
    assert cand.class_ids.tolist() == [32]
    np.testing.assert_allclose(cand.boxes, [[90, 80, 110, 120]])
    np.testing.assert_allclose(cand.scores, [0.8])


def test_per_class_threshold_filters_only_that_class() -> None:
    out = yolo_output([(50, 50, 10, 10, 14, 0.4), (150, 150, 10, 10, 0, 0.4)])
    config = PostprocessConfig(class_score_thresholds={"bird": 0.6})
    rows = postprocess(out, plan_letterbox(416, 416, 416), config.settings_for(80))
    assert rows[:, 5].tolist() == [0]


def test_any_yolov8_layout_works_eg_640_input_8400_anchors() -> None:
    out = yolo_output([(320, 320, 64, 128, 0, 0.9)], total=8400)
    rows = postprocess(out, plan_letterbox(1280, 720, 640), PostprocessConfig().settings_for(80))
    # scale 0.5, pad_y 140: the box maps back to (576, 232)-(704, 488) in the 1280x720 frame
    np.testing.assert_allclose(rows, [[576, 232, 704, 488, 0.9, 0]], atol=1e-4)


def test_postprocess_returns_best_first_after_nms() -> None:
    out = yolo_output([(100, 100, 50, 50, 0, 0.6), (102, 101, 50, 50, 0, 0.9), (300, 300, 40, 40, 0, 0.7)])
    rows = postprocess(out, plan_letterbox(416, 416, 416), PostprocessConfig().settings_for(80))
    np.testing.assert_allclose(rows[:, 4], [0.9, 0.7])


def test_wrong_number_of_thresholds_is_an_error() -> None:
    with pytest.raises(ValueError, match="3 class thresholds for a detector with 80 classes"):
        decode_yolov8(yolo_output([]), np.full(3, 0.3, np.float32))


def test_config_from_parameters_and_validation() -> None:
    config = PostprocessConfig.from_parameters(
        {"score_threshold": "0.4", "class_score_thresholds": '{"sports ball": 0.2, "14": 0.9}', "iou_threshold": "0.6"}
    )
    thresholds = config.settings_for(80).class_thresholds
    assert thresholds[32] == pytest.approx(0.2) and thresholds[14] == pytest.approx(0.9)
    assert thresholds[0] == pytest.approx(0.4)
    with pytest.raises(ValueError, match="unknown class name 'goalpost'"):
        PostprocessConfig.from_parameters({"class_score_thresholds": '{"goalpost": 0.5}'})
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        PostprocessConfig.from_parameters({"score_threshold": "1.5"})
    with pytest.raises(ValueError, match="iou_threshold"):
        PostprocessConfig.from_parameters({"iou_threshold": "0"})
