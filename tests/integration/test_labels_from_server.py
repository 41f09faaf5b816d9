"""Class names come from the served model's labels file, read through the real embedded Triton.

A tiny hand-made YOLOv8-layout detector with three non-COCO classes (ball, player, referee) whose output is
constant, so every frame's detections are known, is built into a temporary model repository with the project's
builder and served; ``pitchside run``'s pipeline must name its detections as that labels file does.
"""

import asyncio
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from orchestrator.bench.standin.replay import record_outputs
from orchestrator.bench.standin.repository import render_standin_repository
from orchestrator.config.run_config import Mode
from orchestrator.contract import DETECTOR_MODEL
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY, MEDIA_DIR
from orchestrator.repository.check import check_repository
from orchestrator.repository.detector_build import DetectorBuild
from orchestrator.repository.model_config import load_model, read_labels
from orchestrator.sources.spec import parse_source
from orchestrator.triton.client import DetectionClient
from orchestrator.triton.embedded import EmbeddedTriton, EmbeddedTritonConfig, ServerPorts
from orchestrator.triton.labels import NO_LABELS, Labels, LabelsError
from orchestrator.triton.pool import EndpointPool
from orchestrator.triton.wire import WireFormat
from orchestrator.vision.letterbox import letterbox
from orchestrator.vision.onnx_detector import OnnxDetector
from tests.pipeline_run import of_stream, run_and_read, session_config

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

SIZE = 64
NAMES = ("ball", "player", "referee")
ANCHORS = [  # (cx, cy, w, h, ball, player, referee) in input pixels: one confident box per class
    (10, 10, 8, 8, 0.9, 0.0, 0.0),
    (32, 32, 16, 24, 0.0, 0.8, 0.1),
    (50, 40, 10, 20, 0.0, 0.0, 0.7),
]
SHORT = "short_labels"
"""The same detector whose labels file lost its last line after the build: the server cannot name class 2."""
UNLABELLED = "unlabelled"
"""The same detector with no labels file named on any output."""

CONFIG = """
name: "{name}"
backend: "python"
max_batch_size: 8
input [
  {{ name: "images", data_type: TYPE_UINT8, dims: [ {size}, {size}, 3 ] }},
  {{ name: "LETTERBOX", data_type: TYPE_FP32, dims: [ 5 ] }}
]
output [
  {{ name: "DETECTIONS", data_type: TYPE_FP32, dims: [ 3, 6 ] }},
  {{ name: "NUM_DETECTIONS", data_type: TYPE_INT32, dims: [ 1 ] }},
  {{ name: "CLASS_SCORES", data_type: TYPE_FP32, dims: [ 3 ] {label} }}
]
dynamic_batching {{ }}
instance_group [ {{ count: 1, kind: KIND_CPU }} ]
parameters {{ key: "onnx_file", value: {{ string_value: "model.onnx" }} }}
parameters {{ key: "intra_op_threads", value: {{ string_value: "1" }} }}
parameters {{ key: "source_onnx", value: {{ string_value: "source.onnx" }} }}
parameters {{ key: "score_threshold", value: {{ string_value: "0.35" }} }}
parameters {{ key: "class_score_thresholds", value: {{ string_value: "{{\\"{referee}\\": 0.5}}" }} }}
parameters {{ key: "iou_threshold", value: {{ string_value: "0.5" }} }}
parameters {{ key: "max_detections", value: {{ string_value: "300" }} }}
"""


def constant_source() -> onnx.ModelProto:
    """(B, 3, 64, 64) float32 in, ANCHORS as (B, 7, 3) out whatever the frame (batched: one copy per image)."""
    predictions = np.array(ANCHORS, np.float32).T[None]
    constants = {
        "predictions": predictions,
        "zero": np.array(0.0, np.float32),
        "image_axes": np.array([1, 2, 3], np.int64),
        "per_image_shape": np.array([0, 1, 1], np.int64),
    }
    nodes = [
        helper.make_node("ReduceSum", ["images", "image_axes"], ["total"], keepdims=1),
        helper.make_node("Reshape", ["total", "per_image_shape"], ["per_image"]),
        helper.make_node("Mul", ["per_image", "zero"], ["nothing"]),
        helper.make_node("Add", ["nothing", "predictions"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "constant_three_classes",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, ["batch", 7, len(ANCHORS)])],
        [numpy_helper.from_array(value, name) for name, value in constants.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model, full_check=True)
    return model


def add_detector(repository: Path, name: str, labels: tuple[str, ...] | None) -> Path:
    """A detector model directory built by the project's builder; ``labels`` None names no labels file."""
    directory = repository / name
    (directory / "1").mkdir(parents=True)
    onnx.save(constant_source(), str(directory / "source.onnx"))
    shutil.copyfile(DEFAULT_MODEL_REPOSITORY / DETECTOR_MODEL / "1" / "model.py", directory / "1" / "model.py")
    label = "" if labels is None else 'label_filename: "labels.txt"'
    referee = "2" if labels is None else "referee"  # a threshold by name needs the labels file, by id does not
    (directory / "config.pbtxt").write_text(CONFIG.format(name=name, size=SIZE, label=label, referee=referee))
    if labels is not None:
        (directory / "labels.txt").write_text("".join(f"{line}\n" for line in labels))
    DetectorBuild.of(load_model(directory)).write()
    return directory


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("labelled_models")
    add_detector(root, DETECTOR_MODEL, NAMES)
    add_detector(root, UNLABELLED, None)
    short = add_detector(root, SHORT, NAMES)
    (short / "labels.txt").write_text("ball\nplayer\n")
    return root


@pytest.fixture(scope="module")
def labelled_url(repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("labelled_triton") / "tritonserver.log"
    with EmbeddedTriton(EmbeddedTritonConfig(repository, ServerPorts(0, 0, 0), log_path=log)) as server:
        yield server.endpoints.grpc_url


def test_the_hand_made_repository_checks_clean_but_for_the_shortened_labels(repository: Path) -> None:
    problems = [str(p) for p in check_repository(repository)]
    assert len(problems) == 1 and problems[0].startswith(SHORT) and "names 2 classes" in problems[0], problems


def test_pipeline_events_carry_the_models_own_class_names(labelled_url: str, tmp_path: Path) -> None:
    streams = (parse_source(str(MEDIA_DIR / "vtest.avi"), "pitch"),)
    config = session_config(tmp_path, streams, labelled_url, Mode.OFFLINE, max_frames=4)
    _, events = asyncio.run(run_and_read(config))
    frames = of_stream(events, "pitch", "detections")
    assert len(frames) == 4
    for event in frames:
        named = sorted((d["class_id"], d["class_name"]) for d in event["detections"])
        assert named == [(0, "ball"), (1, "player"), (2, "referee")], event["detections"]


async def test_the_client_reads_the_names_once_and_every_detection_carries_them(labelled_url: str) -> None:
    async with DetectionClient.connect(labelled_url, DETECTOR_MODEL) as client:
        assert await client.load_labels() == Labels(NAMES)
        boxed, plan = letterbox(np.zeros((SIZE, SIZE, 3), np.uint8), SIZE)
        found = await client.detect_letterboxed(boxed, plan)
    assert found.class_names() == ("ball", "player", "referee")
    assert found.labels is client.labels, "detections share the one Labels, not a copy"


async def test_a_labels_file_short_of_the_models_classes_fails_the_start(labelled_url: str) -> None:
    with pytest.raises(LabelsError, match=r"short_labels: .* does not name its 3 classes .*no name for class 2"):
        async with EndpointPool.connect([labelled_url], SHORT, 5.0, WireFormat.LETTERBOX):
            pass


async def test_a_model_without_a_labels_file_names_classes_by_id_with_one_warning(
    labelled_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="orchestrator.triton.labels"):
        async with EndpointPool.connect([labelled_url], UNLABELLED, 5.0, WireFormat.LETTERBOX) as pool:
            found, _ = await pool.detect(np.zeros((48, 64, 3), np.uint8), 5.0)
            await pool.detect(np.zeros((48, 64, 3), np.uint8), 5.0)
    assert pool.labels is NO_LABELS
    assert found.class_names() == ("class_0", "class_1", "class_2")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "unlabelled names no labels file" in warnings[0], warnings


async def test_the_ensemble_reads_the_names_of_its_detector_step(grpc_url: str) -> None:
    async with DetectionClient.connect(grpc_url) as client:
        labels = await client.load_labels()
    assert labels.names == read_labels(DEFAULT_MODEL_REPOSITORY / DETECTOR_MODEL / "labels.txt")
    assert len(labels) == 80


async def test_the_benchmarks_standin_detector_serves_the_same_names(tmp_path: Path) -> None:
    detector = OnnxDetector.load(DEFAULT_MODEL_REPOSITORY / DETECTOR_MODEL / "1" / "model.onnx")
    boxed, plan = letterbox(np.zeros((48, 64, 3), np.uint8), detector.input_size)
    render_standin_repository(
        DEFAULT_MODEL_REPOSITORY, record_outputs(detector, (boxed,), (plan.as_array(),)), tmp_path / "standin"
    )
    config = EmbeddedTritonConfig(tmp_path / "standin", ServerPorts(0, 0, 0), log_path=tmp_path / "triton.log")
    async with EmbeddedTriton(config) as server:
        urls = [server.endpoints.grpc_url]
        async with EndpointPool.connect(urls, None, 5.0, WireFormat.LETTERBOX) as pool:
            await pool.detect(np.zeros((48, 64, 3), np.uint8), 5.0)
    assert pool.labels is not None
    assert pool.labels.names == read_labels(DEFAULT_MODEL_REPOSITORY / DETECTOR_MODEL / "labels.txt")
