"""The served detector graph equals an independent reference on real footage; its settings, errors and build are pinned.

The reference (tests/reference_detector.py) runs the *source* graph with OpenCV letterboxing and OpenCV's NMS, so
agreement means the served graph's decode, thresholds, NMS, top-K and un-letterboxing are right, not merely
self-consistent.
"""

import dataclasses
import functools
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from orchestrator.contract import (
    DETECTOR_INPUT,
    LETTERBOX,
    OUTPUT_CLASS_SCORES,
    OUTPUT_DETECTIONS,
    OUTPUT_NUM_DETECTIONS,
)
from orchestrator.repository.detector_build import DetectorBuild
from orchestrator.repository.detector_graph import GraphBuildError, GraphSettings, build_detector_graph, read_layout
from orchestrator.repository.model_config import load_model
from orchestrator.vision.letterbox import letterbox, letterbox_problem
from orchestrator.vision.onnx_detector import OnnxDetector
from tests.media import STILLS, VIDEOS, sampled_frames
from tests.reference_detector import ReferenceDetector

NANODET_SIZE = 416
FRAMES_PER_VIDEO = 3
FOOTAGE = [p.name for p in STILLS] + [f"{v.name}#{i}" for v in VIDEOS for i in range(FRAMES_PER_VIDEO)]
"""Every still in media/ and FRAMES_PER_VIDEO evenly spaced frames of every video, by name."""

RANDOM_SIZE = 640
RANDOM_CLASSES = 3
RANDOM_SEED = 6
RANDOM_THRESHOLDS = np.array([0.2, 0.2, 0.3], np.float32)
"""Chosen for RANDOM_SEED so that several boxes (6 to 26) of every class survive on each of RANDOM_FOOTAGE."""
RANDOM_FOOTAGE = ["basketball1.png", "astronaut.png", "vtest.avi#1"]
RANDOM_BOX_SIDE = 160.0


@functools.cache
def video_frames(name: str) -> tuple[np.ndarray, ...]:
    video = next(v for v in VIDEOS if v.name == name)
    return tuple(frame for _, frame in sampled_frames(video, FRAMES_PER_VIDEO))


def footage(name: str) -> np.ndarray:
    """(H, W, 3) uint8 BGR: a still by file name or ``<video>#<i>``, the i-th sampled frame of a video."""
    if "#" in name:
        video, index = name.split("#")
        return video_frames(video)[int(index)]
    frame = cv2.imread(str(next(p for p in STILLS if p.name == name)), cv2.IMREAD_COLOR)
    assert frame is not None, name
    return frame


def yolo_graph(
    classes: int = RANDOM_CLASSES, width: int = RANDOM_SIZE, height: int = RANDOM_SIZE, opset: int = 17
) -> onnx.ModelProto:
    """A YOLOv8-layout source graph with fixed-seed random weights: (B, 3, H, W) float32 BGR 0..255 in,
    (B, 4 + classes, H/8 * W/8) out; rows cx, cy in input pixels, w, h up to RANDOM_BOX_SIDE, then class scores."""
    rows, anchors = 4 + classes, (height // 8) * (width // 8)
    rng = np.random.default_rng(RANDOM_SEED)
    weights = rng.normal(0.0, 0.15, (rows, 3, 8, 8)).astype(np.float32)
    bias = np.concatenate([np.zeros(4), np.full(classes, -2.0)]).astype(np.float32)
    scale = np.array([width, height, RANDOM_BOX_SIDE, RANDOM_BOX_SIDE] + [1.0] * classes, np.float32).reshape(rows, 1)
    constants = {
        "inv255": np.array(1 / 255, np.float32),
        "weights": weights,
        "bias": bias,
        "flat_shape": np.array([0, rows, anchors], np.int64),
        "row_scale": scale,
    }
    nodes = [
        helper.make_node("Mul", ["images", "inv255"], ["unit"]),
        helper.make_node("Conv", ["unit", "weights", "bias"], ["features"], kernel_shape=[8, 8], strides=[8, 8]),
        helper.make_node("Reshape", ["features", "flat_shape"], ["flat"]),
        helper.make_node("Sigmoid", ["flat"], ["squashed"]),
        helper.make_node("Mul", ["squashed", "row_scale"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "random_yolov8_layout",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, height, width])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, ["batch", rows, anchors])],
        [numpy_helper.from_array(value, name) for name, value in constants.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model, full_check=True)
    return model


def served_session(model: onnx.ModelProto) -> OnnxDetector:
    return OnnxDetector(ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]))


def detect_one(detector: OnnxDetector, frame: np.ndarray) -> np.ndarray:
    """(n, 6) served detections of one frame, letterboxed by the project's own letterbox()."""
    boxed, plan = letterbox(frame, detector.input_size)
    return detector.detect(boxed[None], plan.as_array()[None])[0]


def class_scores_one(detector: OnnxDetector, frame: np.ndarray) -> np.ndarray:
    """(C,) the served CLASS_SCORES of one frame."""
    boxed, plan = letterbox(frame, detector.input_size)
    return detector.outputs([OUTPUT_CLASS_SCORES], boxed[None], plan.as_array()[None])[OUTPUT_CLASS_SCORES][0]


def assert_same_detections(got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.shape == want.shape, f"{what}: {len(got)} detections, reference has {len(want)}:\n{got}\n{want}"
    np.testing.assert_array_equal(got[:, 5], want[:, 5], err_msg=f"{what}: classes differ")
    np.testing.assert_allclose(got[:, :4], want[:, :4], atol=1.0, rtol=0, err_msg=f"{what}: boxes differ")
    np.testing.assert_allclose(got[:, 4], want[:, 4], atol=1e-3, rtol=0, err_msg=f"{what}: scores differ")


@pytest.fixture(scope="module")
def random_source_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("random_yolo") / "source.onnx"
    onnx.save(yolo_graph(), str(path))
    return path


@pytest.fixture(scope="module")
def random_served(random_source_path: Path) -> OnnxDetector:
    return served_session(build_detector_graph(onnx.load(str(random_source_path)), GraphSettings(RANDOM_THRESHOLDS)))


@pytest.fixture(scope="module")
def nanodet_build(model_repository: Path) -> DetectorBuild:
    return DetectorBuild.of(load_model(model_repository / "detector"))


@pytest.fixture(scope="module")
def nanodet_settings(nanodet_build: DetectorBuild) -> GraphSettings:
    return nanodet_build.settings(read_layout(onnx.load(str(nanodet_build.source))).num_classes)


@pytest.fixture(scope="module")
def nanodet_source(nanodet_build: DetectorBuild) -> onnx.ModelProto:
    return onnx.load(str(nanodet_build.source))


@pytest.fixture(scope="module")
def served(nanodet_build: DetectorBuild) -> OnnxDetector:
    """The committed served graph, as the CPU profile loads it."""
    return OnnxDetector.load(nanodet_build.served)


@pytest.fixture(scope="module")
def reference(nanodet_build: DetectorBuild, nanodet_settings: GraphSettings) -> ReferenceDetector:
    """The committed source graph with the thresholds the detector's config bakes in."""
    return ReferenceDetector(
        nanodet_build.source,
        iou=nanodet_settings.iou_threshold,
        size=NANODET_SIZE,
        class_thresholds=nanodet_settings.class_thresholds,
    )


# --- a random-weight YOLOv8-layout graph at 640 ---


@pytest.mark.parametrize("name", RANDOM_FOOTAGE)
def test_random_640_graph_matches_reference_on_real_frames(
    random_served: OnnxDetector, random_source_path: Path, name: str
) -> None:
    frame = footage(name)
    want = ReferenceDetector(random_source_path, size=RANDOM_SIZE, class_thresholds=RANDOM_THRESHOLDS)(frame)
    assert 0 < len(want) <= 40, f"{name}: {len(want)} reference boxes; the thresholds no longer fit the graph"
    assert len(set(want[:, 5].tolist())) >= 2, f"{name}: one class only, class-wise NMS is not exercised"
    assert_same_detections(detect_one(random_served, frame), want, name)


@pytest.mark.parametrize("name", RANDOM_FOOTAGE)
def test_random_640_class_scores_are_each_classes_best_anchor_as_the_reference(
    random_served: OnnxDetector, random_source_path: Path, name: str
) -> None:
    frame = footage(name)
    want = ReferenceDetector(random_source_path, size=RANDOM_SIZE).class_scores(frame)
    got = class_scores_one(random_served, frame)
    assert got.dtype == np.float32 and got.shape == (RANDOM_CLASSES,)
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0, err_msg=name)


def test_random_graph_reads_as_640_input_three_classes_6400_anchors() -> None:
    layout = read_layout(yolo_graph())
    assert (layout.input_size, layout.num_classes, layout.num_anchors) == (640, 3, 6400)


def test_served_graph_declares_the_contract_tensors(random_served: OnnxDetector) -> None:
    inputs = {i.name: (i.type, i.shape[1:]) for i in random_served.session.get_inputs()}
    outputs = {o.name: (o.type, o.shape[1:]) for o in random_served.session.get_outputs()}
    assert inputs == {DETECTOR_INPUT: ("tensor(uint8)", [640, 640, 3]), LETTERBOX: ("tensor(float)", [5])}
    assert outputs == {
        OUTPUT_DETECTIONS: ("tensor(float)", [300, 6]),
        OUTPUT_NUM_DETECTIONS: ("tensor(int32)", [1]),
        OUTPUT_CLASS_SCORES: ("tensor(float)", [RANDOM_CLASSES]),
    }


def test_k_is_capped_at_the_anchor_count() -> None:
    detector = served_session(build_detector_graph(yolo_graph(width=64, height=64), GraphSettings(RANDOM_THRESHOLDS)))
    boxed, plan = letterbox(footage("basketball1.png"), 64)
    rows, counts = detector.run(boxed[None], plan.as_array()[None])
    assert rows.shape == (1, 64, 6)
    assert counts.shape == (1, 1) and 0 < counts[0, 0] <= 64


# --- the committed NanoDet: 1/model.onnx against the reference on source.onnx ---


@pytest.mark.parametrize("name", FOOTAGE)
def test_committed_detector_matches_reference(served: OnnxDetector, reference: ReferenceDetector, name: str) -> None:
    frame = footage(name)
    want = reference(frame)
    if "#" not in name:
        assert len(want) > 0, f"reference finds nothing in {name}: the comparison would be empty"
    assert_same_detections(detect_one(served, frame), want, name)


@pytest.mark.parametrize("name", [p.name for p in STILLS] + [f"{v.name}#1" for v in VIDEOS])
def test_committed_class_scores_match_reference(served: OnnxDetector, reference: ReferenceDetector, name: str) -> None:
    frame = footage(name)
    want = reference.class_scores(frame)
    got = class_scores_one(served, frame)
    assert got.shape == (80,) and want.max() > 0.35, f"{name}: no class present, the comparison would be empty"
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0, err_msg=name)


def test_reference_finds_something_in_every_video(reference: ReferenceDetector) -> None:
    for video in VIDEOS:
        total = sum(len(reference(frame)) for frame in video_frames(video.name))
        assert total >= FRAMES_PER_VIDEO, f"{video.name}: {total} detections over {FRAMES_PER_VIDEO} frames"


def test_batch_of_several_frames_equals_one_by_one(served: OnnxDetector) -> None:
    names = [p.name for p in STILLS] + [f"{v.name}#0" for v in VIDEOS]
    boxed = [letterbox(footage(n), NANODET_SIZE) for n in names]
    rows, counts = served.run(np.stack([b for b, _ in boxed]), np.stack([plan.as_array() for _, plan in boxed]))
    assert rows.shape == (len(names), served.max_detections, 6) and counts.shape == (len(names), 1)
    for name, (image, plan), batch_rows, batch_count in zip(names, boxed, rows, counts, strict=True):
        single_rows, single_count = served.run(image[None], plan.as_array()[None])
        assert batch_count[0] == single_count[0, 0], name
        np.testing.assert_allclose(batch_rows, single_rows[0], atol=1e-3, rtol=0, err_msg=name)


def test_blank_frame_has_no_detections_and_all_zero_rows(served: OnnxDetector) -> None:
    boxed, plan = letterbox(np.zeros((480, 640, 3), np.uint8), NANODET_SIZE)
    rows, counts = served.run(boxed[None], plan.as_array()[None])
    assert counts.dtype == np.int32 and counts.tolist() == [[0]]
    assert rows.shape == (1, served.max_detections, 6) and not rows.any()


def test_rows_after_the_count_are_zero_and_scores_descend(served: OnnxDetector) -> None:
    names = ["basketball1.png", "vtest.avi#0"]
    frames = [footage(n) for n in names] + [np.zeros((90, 160, 3), np.uint8)]
    boxed = [letterbox(frame, NANODET_SIZE) for frame in frames]
    rows, counts = served.run(np.stack([b for b, _ in boxed]), np.stack([plan.as_array() for _, plan in boxed]))
    assert counts[0, 0] > 0 and counts[1, 0] > 0 and counts[2, 0] == 0, "two busy frames and a blank one"
    for image_rows, (count,) in zip(rows, counts, strict=True):
        assert not image_rows[count:].any()
        assert (np.diff(image_rows[:count, 4]) <= 0).all() and (image_rows[:count, 4] > 0).all()


def test_class_threshold_override_drops_only_that_classes_weaker_boxes(
    served: OnnxDetector, nanodet_build: DetectorBuild, nanodet_settings: GraphSettings
) -> None:
    person = nanodet_build.labels.index("person")  # the override names a class as the model's labels file does
    override = {**nanodet_build.parameters, "class_score_thresholds": '{"person": 0.7}'}
    strict = served_session(dataclasses.replace(nanodet_build, parameters=override).build())
    thresholds = nanodet_settings.class_thresholds.copy()
    thresholds[person] = 0.7
    reference = ReferenceDetector(nanodet_build.source, size=NANODET_SIZE, class_thresholds=thresholds)
    dropped = kept = 0
    for name in FOOTAGE:
        frame = footage(name)
        default, got = detect_one(served, frame), detect_one(strict, frame)
        weak_person = (default[:, 5] == person) & (default[:, 4] < 0.7)
        assert_same_detections(got, default[~weak_person], f"{name}: default less the weak people")
        assert_same_detections(got, reference(frame), f"{name}: reference with person >= 0.7")
        dropped += int(weak_person.sum())
        kept += int((got[:, 5] == person).sum())
    assert dropped > 0 and kept > 0, f"{dropped} people dropped and {kept} kept: the override was not exercised"


def test_max_detections_sets_k_and_keeps_the_best(
    served: OnnxDetector, nanodet_source: onnx.ModelProto, nanodet_settings: GraphSettings
) -> None:
    frame = footage("vtest.avi#0")
    default = detect_one(served, frame)
    assert len(default) > 2
    top_two = served_session(
        build_detector_graph(nanodet_source, dataclasses.replace(nanodet_settings, max_detections=2))
    )
    boxed, plan = letterbox(frame, NANODET_SIZE)
    rows, counts = top_two.run(boxed[None], plan.as_array()[None])
    assert top_two.max_detections == 2 and rows.shape == (1, 2, 6) and counts.tolist() == [[2]]
    np.testing.assert_allclose(rows[0], default[:2], atol=1e-4, rtol=0)


@pytest.mark.parametrize("name", FOOTAGE)
def test_boxes_lie_within_the_source_frame(served: OnnxDetector, name: str) -> None:
    frame = footage(name)
    got = detect_one(served, frame)
    height, width = frame.shape[:2]
    assert (got[:, :4] >= 0).all()
    assert (got[:, [0, 2]] <= width).all() and (got[:, [1, 3]] <= height).all()
    assert (got[:, 2] >= got[:, 0]).all() and (got[:, 3] >= got[:, 1]).all()


def test_boxes_are_clipped_to_the_source_size_the_letterbox_states(served: OnnxDetector) -> None:
    boxed, plan = letterbox(footage("basketball1.png"), NANODET_SIZE)
    full = served.detect(boxed[None], plan.as_array()[None])[0]
    smaller = plan.as_array()
    smaller[3:] = (320, 240)
    clipped = served.detect(boxed[None], smaller[None])[0]
    assert (full[:, 2] > 320).any() and (full[:, 3] > 240).any(), "nothing to clip: pick other limits"
    want = full.copy()
    want[:, [0, 2]] = np.minimum(want[:, [0, 2]], 320)
    want[:, [1, 3]] = np.minimum(want[:, [1, 3]], 240)
    np.testing.assert_allclose(clipped, want, atol=1e-4, rtol=0)


# --- exact semantics on fixed predictions: thresholds, IoU, classes ---

FIXED_SIZE = 32


def fixed_graph(anchors: list[tuple[float, ...]]) -> onnx.ModelProto:
    """A source graph that ignores its (B, 3, 32, 32) input and returns ``anchors``, each (cx, cy, w, h, *scores)."""
    predictions = np.array(anchors, np.float32).T[None]
    rows, count = predictions.shape[1:]
    constants = {
        "predictions": predictions,
        "zero": np.array(0.0, np.float32),
        "per_image_shape": np.array([0, 1, 1], np.int64),
    }
    nodes = [
        helper.make_node("ReduceSum", ["images"], ["total"], keepdims=1),
        helper.make_node("Reshape", ["total", "per_image_shape"], ["per_image"]),
        helper.make_node("Mul", ["per_image", "zero"], ["nothing"]),
        helper.make_node("Add", ["nothing", "predictions"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "fixed_predictions",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, FIXED_SIZE, FIXED_SIZE])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, ["batch", rows, count])],
        [numpy_helper.from_array(value, name) for name, value in constants.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model, full_check=True)
    return model


def detect_fixed(anchors: list[tuple[float, ...]], threshold: float = 0.3, iou: float = 0.5) -> np.ndarray:
    """(n, 6) served detections of ``anchors`` with an identity letterbox (input pixels are source pixels)."""
    classes = len(anchors[0]) - 4
    detector = served_session(
        build_detector_graph(fixed_graph(anchors), GraphSettings(np.full(classes, threshold), iou))
    )
    identity = np.array([[1.0, 0, 0, FIXED_SIZE, FIXED_SIZE]], np.float32)
    return detector.detect(np.zeros((1, FIXED_SIZE, FIXED_SIZE, 3), np.uint8), identity)[0]


def test_score_equal_to_its_threshold_is_kept_and_just_below_is_dropped() -> None:
    got = detect_fixed([(10, 10, 10, 10, 0.5, 0.1), (25, 25, 4, 4, 0.4999, 0.1)], threshold=0.5)
    np.testing.assert_array_equal(got, np.array([[5, 5, 15, 15, 0.5, 0]], np.float32))


def test_iou_equal_to_the_threshold_keeps_both_boxes_and_above_suppresses_the_weaker() -> None:
    # (0, 0, 10, 10) against (0, 0, 10, 20): IoU 100 / 200 = 0.5 exactly; against (0, 0, 10, 19): 100 / 190.
    at_threshold = detect_fixed([(5, 5, 10, 10, 0.9, 0), (5, 10, 10, 20, 0.8, 0)])
    np.testing.assert_array_equal(at_threshold, np.array([[0, 0, 10, 10, 0.9, 0], [0, 0, 10, 20, 0.8, 0]], np.float32))
    above = detect_fixed([(5, 5, 10, 10, 0.9, 0), (5, 9.5, 10, 19, 0.8, 0)])
    np.testing.assert_array_equal(above, np.array([[0, 0, 10, 10, 0.9, 0]], np.float32))


def test_identical_boxes_of_different_classes_both_survive() -> None:
    got = detect_fixed([(5, 5, 10, 10, 0.9, 0.0), (5, 5, 10, 10, 0.0, 0.8)])
    np.testing.assert_array_equal(got, np.array([[0, 0, 10, 10, 0.9, 0], [0, 0, 10, 10, 0.8, 1]], np.float32))


def test_class_scores_are_each_classes_best_anchor_whatever_thresholds_and_nms_kept() -> None:
    anchors = [(5, 5, 10, 10, 0.9, 0.0, 0.1), (5, 5, 10, 10, 0.8, 0.2, 0.0), (20, 20, 4, 4, 0.1, 0.25, 0.05)]
    detector = served_session(build_detector_graph(fixed_graph(anchors), GraphSettings(np.full(3, 0.3))))
    identity = np.array([[1.0, 0, 0, FIXED_SIZE, FIXED_SIZE]], np.float32)
    out = detector.outputs([OUTPUT_CLASS_SCORES], np.zeros((1, FIXED_SIZE, FIXED_SIZE, 3), np.uint8), identity)
    np.testing.assert_array_equal(out[OUTPUT_CLASS_SCORES], np.array([[0.9, 0.25, 0.1]], np.float32))


def test_anchor_tied_between_classes_is_the_first_and_suppresses_only_in_that_class() -> None:
    got = detect_fixed([(5, 5, 10, 10, 0.7, 0.7), (5, 5, 10, 10, 0.0, 0.6)])
    np.testing.assert_array_equal(got, np.array([[0, 0, 10, 10, 0.7, 0], [0, 0, 10, 10, 0.6, 1]], np.float32))


# --- sources the builder refuses ---


def with_second_output(model: onnx.ModelProto) -> onnx.ModelProto:
    model.graph.output.append(helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 7, 80, 80]))
    return model


@pytest.mark.parametrize(
    ("source", "settings", "message"),
    [
        (with_second_output(yolo_graph()), None, r"expected one input and one output, got 1 and 2"),
        (yolo_graph(width=640, height=480), None, r"input must be \(batch, 3, S, S\) with a fixed S"),
        (yolo_graph(classes=0), None, r"output must be \(batch, 4 \+ classes, anchors\)"),
        (yolo_graph(), GraphSettings(np.full(2, 0.3, np.float32)), r"2 class thresholds for a detector with 3 classes"),
        (yolo_graph(), GraphSettings(RANDOM_THRESHOLDS, iou_threshold=0.0), r"iou_threshold must be within \(0, 1\]"),
        (yolo_graph(), GraphSettings(RANDOM_THRESHOLDS, max_detections=0), r"max_detections at least 1"),
        (yolo_graph(opset=12), None, r"source opset 12 is below 13"),
    ],
    ids=["two-outputs", "non-square-input", "no-class-rows", "threshold-length", "iou-zero", "k-zero", "opset-12"],
)
def test_builder_refuses_a_source_it_cannot_serve(
    source: onnx.ModelProto, settings: GraphSettings | None, message: str
) -> None:
    with pytest.raises(GraphBuildError, match=message):
        build_detector_graph(source, settings or GraphSettings(RANDOM_THRESHOLDS))


# --- the build is deterministic and checkable ---


def test_building_twice_gives_identical_bytes(nanodet_source: onnx.ModelProto, nanodet_settings: GraphSettings) -> None:
    random_source = yolo_graph()
    assert (
        build_detector_graph(random_source, GraphSettings(RANDOM_THRESHOLDS)).SerializeToString()
        == build_detector_graph(random_source, GraphSettings(RANDOM_THRESHOLDS)).SerializeToString()
    )
    first = build_detector_graph(nanodet_source, nanodet_settings).SerializeToString()
    assert build_detector_graph(nanodet_source, nanodet_settings).SerializeToString() == first


def test_build_leaves_the_source_model_untouched() -> None:
    source = yolo_graph()
    before = source.SerializeToString()
    build_detector_graph(source, GraphSettings(RANDOM_THRESHOLDS))
    assert source.SerializeToString() == before


def test_committed_served_graph_is_what_the_config_builds(nanodet_build: DetectorBuild) -> None:
    assert nanodet_build.is_current()


def test_editing_a_baked_parameter_makes_the_served_graph_stale(model_repository: Path, tmp_path: Path) -> None:
    copy = tmp_path / "detector"
    shutil.copytree(model_repository / "detector", copy, ignore=shutil.ignore_patterns("__pycache__"))
    DetectorBuild.of(load_model(copy)).write()
    assert DetectorBuild.of(load_model(copy)).is_current(), "a freshly written copy should be current"
    config = copy / "config.pbtxt"
    text = config.read_text()
    edited = text.replace(
        'key: "score_threshold", value: { string_value: "0.35" }',
        'key: "score_threshold", value: { string_value: "0.4" }',
    )
    assert edited != text, "score_threshold 0.35 not found in the detector config"
    config.write_text(edited)
    stale = DetectorBuild.of(load_model(copy))
    assert not stale.is_current()
    stale.write()
    assert stale.is_current()


# --- letterbox_problem: the check on a client-sent LETTERBOX ---


@pytest.mark.parametrize("name", FOOTAGE)
def test_real_letterbox_has_no_problem(name: str) -> None:
    _, plan = letterbox(footage(name), NANODET_SIZE)
    assert letterbox_problem(plan.as_array(), NANODET_SIZE) is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ((np.nan, 0, 52, 640, 480), "non-finite"),
        ((0.65, np.inf, 52, 640, 480), "non-finite"),
        ((0.0, 0, 52, 640, 480), "scale 0.0 is outside"),
        ((-0.5, 0, 52, 640, 480), "scale -0.5 is outside"),
        ((2048.0, 0, 0, 1, 1), r"scale 2048.0 is outside \(0, 1024.0\]"),
        ((0.65, 416, 0, 640, 480), r"padding \(416.0, 0.0\) is outside the 416x416 input"),
        ((0.65, 0, -1, 640, 480), r"padding \(0.0, -1.0\) is outside"),
        ((0.65, 0, 52, 0, 480), "source size 0.0x480.0 is outside 1..8192"),
        ((0.65, 0, 52, 640, 8193), "source size 640.0x8193.0 is outside 1..8192"),
    ],
    ids=[
        "nan",
        "inf",
        "zero-scale",
        "negative-scale",
        "scale-past-max",
        "pad-x-past-input",
        "negative-pad",
        "zero-width",
        "too-tall",
    ],
)
def test_letterbox_problem_names_what_is_wrong(values: tuple[float, ...], message: str) -> None:
    problem = letterbox_problem(np.array(values, np.float32), NANODET_SIZE)
    assert problem is not None and re.search(message, problem), problem
