"""`pitchside model check`: a researcher's hand-over either can be served, or every problem gets its own message.

The graphs here are small YOLOv8-layout detectors made with onnx.helper: images (B, 3, H, W) -> an 8x8/8 Conv ->
(B, 4 + classes, H/8 * W/8). Each test changes one thing from the good graph and checks the message it earns.
"""

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from typer.testing import CliRunner

from orchestrator.cli.app import app
from orchestrator.modelstore.source_check import check_source, read_labels

SIZE = 32
CLASSES = 3
LABELS = ("ball", "player", "referee")


def detector_graph(
    classes: int = CLASSES,
    height: int = SIZE,
    width: int = SIZE,
    opset: int = 17,
    batch: int | str = "batch",
    extra_output: bool = False,
) -> onnx.ModelProto:
    """images (batch, 3, height, width) float32 -> predictions (batch, 4 + classes, anchors)."""
    rows, anchors = 4 + classes, (height // 8) * (width // 8)
    rng = np.random.default_rng(0)
    initializers = [
        numpy_helper.from_array(rng.normal(0, 0.1, (rows, 3, 8, 8)).astype(np.float32), "weights"),
        numpy_helper.from_array(np.zeros(rows, np.float32), "bias"),
        numpy_helper.from_array(np.array([0, rows, anchors], np.int64), "flat_shape"),
    ]
    nodes = [
        helper.make_node("Conv", ["images", "weights", "bias"], ["features"], kernel_shape=[8, 8], strides=[8, 8]),
        helper.make_node("Reshape", ["features", "flat_shape"], ["predictions"]),
    ]
    outputs = [helper.make_tensor_value_info("predictions", TensorProto.FLOAT, [batch, rows, anchors])]
    if extra_output:
        nodes.append(helper.make_node("Identity", ["features"], ["features_out"]))
        outputs.append(
            helper.make_tensor_value_info("features_out", TensorProto.FLOAT, [batch, rows, height // 8, width // 8])
        )
    graph = helper.make_graph(
        nodes,
        "tiny_detector",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [batch, 3, height, width])],
        outputs,
        initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def saved(model: onnx.ModelProto, tmp_path: Path, name: str = "source.onnx") -> Path:
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def labels_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "labels.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_committed_nanodet_source_passes_with_its_labels(model_repository: Path) -> None:
    detector = model_repository / "detector"
    report = check_source(detector / "source.onnx", read_labels(detector / "labels.txt"))

    assert report.ok and report.problems == ()
    assert report.opset == 17
    assert report.layout is not None
    assert (report.layout.input_size, report.layout.num_classes, report.layout.num_anchors) == (416, 80, 3549)


def test_a_small_yolov8_layout_graph_with_matching_labels_passes(tmp_path: Path) -> None:
    report = check_source(saved(detector_graph(), tmp_path), LABELS)

    assert report.problems == ()
    assert report.layout is not None
    assert (report.layout.input_size, report.layout.num_classes, report.layout.num_anchors) == (SIZE, CLASSES, 16)


def test_a_file_that_is_not_onnx_gets_one_message_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "weights.onnx"
    path.write_bytes(b"PK\x03\x04 this is a zip of pytorch weights, not an ONNX graph")

    report = check_source(path, LABELS)

    assert not report.ok
    assert report.layout is None and report.opset == 0
    assert len(report.problems) == 1
    assert report.problems[0].startswith("weights.onnx is not a valid ONNX model: ")


def test_opset_12_is_refused_with_the_opset_to_re_export_with(tmp_path: Path) -> None:
    report = check_source(saved(detector_graph(opset=12), tmp_path), LABELS)

    assert report.opset == 12
    assert report.problems == ("opset 12: re-export with opset 13 or newer",)


def test_two_outputs_are_not_the_yolov8_layout(tmp_path: Path) -> None:
    report = check_source(saved(detector_graph(extra_output=True), tmp_path), LABELS)

    assert report.layout is None
    assert report.problems == (
        "layout: expected one input and one output, got 1 and 2; "
        "expected the YOLOv8 layout (images (B, 3, S, S) -> (B, 4 + classes, A))",
    )


def test_a_non_square_input_is_not_the_yolov8_layout(tmp_path: Path) -> None:
    report = check_source(saved(detector_graph(height=32, width=64), tmp_path), LABELS)

    assert report.layout is None
    assert report.problems == (
        "layout: input must be (batch, 3, S, S) with a fixed S, got ['batch', 3, 32, 64]; "
        "expected the YOLOv8 layout (images (B, 3, S, S) -> (B, 4 + classes, A))",
    )


def test_a_fixed_batch_dimension_is_named_on_the_input_and_the_output(tmp_path: Path) -> None:
    report = check_source(saved(detector_graph(batch=1), tmp_path), LABELS)

    assert report.layout is not None  # the layout itself is fine: only the batch axis is wrong
    assert len(report.problems) == 2
    images, predictions = report.problems
    assert images.startswith("input 'images' has a fixed batch of 1: export with a dynamic batch axis")
    assert predictions.startswith("output 'predictions' has a fixed batch of 1: export with a dynamic batch axis")


@pytest.mark.parametrize(
    ("labels", "count"), [(("ball", "player"), 2), (("ball", "player", "referee", "coach"), 4), ((), 0)]
)
def test_a_label_count_other_than_the_class_count_is_refused(
    tmp_path: Path, labels: tuple[str, ...], count: int
) -> None:
    report = check_source(saved(detector_graph(), tmp_path), labels)

    assert report.problems == (f"labels: {count} names for a detector with {CLASSES} classes (one name per line)",)


def test_an_empty_label_line_is_an_error_with_its_line_number_not_a_skipped_class(tmp_path: Path) -> None:
    labels = read_labels(labels_file(tmp_path, "ball\n   \nreferee\n\n\n"))
    assert labels == ("ball", "", "referee")  # trailing blank lines are dropped, the inner one is kept

    report = check_source(saved(detector_graph(), tmp_path), labels)

    assert report.problems == ("labels: line 2 is empty",)


def test_duplicate_labels_are_each_named_once(tmp_path: Path) -> None:
    labels = ("player", "ball", "player", "ball", "referee")

    report = check_source(saved(detector_graph(classes=5), tmp_path), labels)

    assert report.problems == ("labels: ball, player appear more than once",)


def test_several_problems_are_all_reported_together(tmp_path: Path) -> None:
    report = check_source(saved(detector_graph(opset=12, batch=4), tmp_path), ("ball", "ball"))

    assert [problem.split(":")[0] for problem in report.problems] == [
        "opset 12",
        "input 'images' has a fixed batch of 4",
        "output 'predictions' has a fixed batch of 4",
        "labels",
        "labels",
    ]
    assert report.problems[3] == "labels: 2 names for a detector with 3 classes (one name per line)"
    assert report.problems[4] == "labels: ball appear more than once"


def test_an_operator_onnx_runtime_cannot_run_is_reported(tmp_path: Path) -> None:
    model = detector_graph()
    model.graph.node[1].CopyFrom(
        helper.make_node("Reshape", ["features", "flat_shape"], ["predictions"], domain="com.example.custom")
    )
    model.opset_import.append(helper.make_opsetid("com.example.custom", 1))

    report = check_source(saved(model, tmp_path), LABELS)

    assert len(report.problems) == 1
    assert report.problems[0].startswith("ONNX Runtime cannot load it (an operator or type it does not support?): ")


def test_read_labels_strips_names_and_keeps_class_id_order(tmp_path: Path) -> None:
    assert read_labels(labels_file(tmp_path, "  person\r\nsports ball \r\ncar\r\n")) == ("person", "sports ball", "car")


def test_cli_check_prints_the_layout_and_exits_0_for_a_servable_source(tmp_path: Path) -> None:
    source = saved(detector_graph(), tmp_path)
    labels = labels_file(tmp_path, "\n".join(LABELS) + "\n")

    result = CliRunner().invoke(app, ["model", "check", str(source), "--labels", str(labels)])

    assert result.exit_code == 0, result.output
    assert result.stdout == "source.onnx: ok: opset 17, input 32x32, 3 classes, 16 anchors\n"
    assert result.stderr == ""


def test_cli_check_prints_one_error_line_per_problem_and_exits_1(tmp_path: Path) -> None:
    source = saved(detector_graph(opset=12), tmp_path)
    labels = labels_file(tmp_path, "ball\nball\n")

    result = CliRunner().invoke(app, ["model", "check", str(source), "--labels", str(labels)])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: opset 12: re-export with opset 13 or newer",
        "error: labels: 2 names for a detector with 3 classes (one name per line)",
        "error: labels: ball appear more than once",
    ]


def test_cli_check_of_a_file_that_is_not_onnx_is_one_error_line(tmp_path: Path) -> None:
    source = tmp_path / "model.onnx"
    source.write_bytes(b"\x00\x01 not a protobuf \xff")
    labels = labels_file(tmp_path, "ball\n")

    result = CliRunner().invoke(app, ["model", "check", str(source), "--labels", str(labels)])

    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: model.onnx is not a valid ONNX model: ")


def test_cli_check_of_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    labels = labels_file(tmp_path, "ball\n")

    result = CliRunner().invoke(app, ["model", "check", str(tmp_path / "absent.onnx"), "--labels", str(labels)])

    assert result.exit_code == 2
    assert "absent.onnx" in result.stderr and "does not exist" in result.stderr
