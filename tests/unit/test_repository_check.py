"""repo check: the real repository is sound, and each kind of breakage is named by model and field."""

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.cli.app import app
from orchestrator.repository.check import check_repository


@pytest.fixture
def repo_copy(model_repository: Path, tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    shutil.copytree(model_repository, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def edit(repo: Path, model: str, old: str, new: str) -> None:
    path = repo / model / "config.pbtxt"
    text = path.read_text()
    assert old in text, f"{old!r} not in {model}/config.pbtxt"
    path.write_text(text.replace(old, new, 1))


def test_shipped_repository_is_sound(model_repository: Path) -> None:
    assert check_repository(model_repository) == []


@pytest.mark.parametrize(
    ("model", "old", "new", "expected"),
    [
        ("detection", 'value: "letterboxed" }\n      input_map', 'value: "letterboxd" }\n      input_map',
         "detection: ensemble_scheduling.step[1].input_map['images']: tensor 'letterboxd' is not"),
        ("detection", 'input_map { key: "images"', 'input_map { key: "pictures"',
         "detection: ensemble_scheduling.step[1].input_map['pictures']: detector has no input 'pictures'"),
        ("preprocess", "TYPE_UINT8\n    dims: [ 416, 416, 3 ]", "TYPE_FP16\n    dims: [ 416, 416, 3 ]",
         "dtype mismatch on 'letterboxed': produced TYPE_FP16, expected TYPE_UINT8"),
        ("preprocess", "dims: [ 416, 416, 3 ]", "dims: [ 640, 640, 3 ]",
         "dims mismatch on 'letterboxed': produced [640, 640, 3], expected [416, 416, 3]"),
        ("detector", "dims: [ 300, 6 ]", "dims: [ 100, 6 ]",
         "detector: output[DETECTIONS]: dims mismatch on 'graph DETECTIONS': produced [300, 6], expected [100, 6]"),
        ("detector", 'name: "NUM_DETECTIONS"', 'name: "COUNT"',
         "detector: output[COUNT]: the ONNX graph has no output 'COUNT'"),
        ("detection", 'model_name: "detector"', 'model_name: "detectr"',
         "detection: ensemble_scheduling.step[1].model_name: no model 'detectr' in the repository"),
        ("detection", "max_batch_size: 8", "max_batch_size: 16", "detection: max_batch_size: 16 exceeds"),
        ("detector", 'input_data_file: "letterbox_identity"', 'input_data_file: "missing"',
         "detector: model_warmup[batch_1].inputs['LETTERBOX']: warmup/missing is missing"),
        ("preprocess", 'name: "preprocess"', 'name: "pre"', "preprocess: name: config names the model 'pre'"),
        ("detector", 'string_value: "0.35"', 'string_value: "0.4"',
         "detector: 1/model.onnx: is not what source.onnx and the config's settings build"),
        ("detector", 'string_value: "source.onnx"', 'string_value: "absent.onnx"',
         "detector: source_onnx: source ONNX absent.onnx is missing"),
        ("detector", '"{}"', '"{\\"goalpost\\": 0.5}"',
         "detector: source_onnx: unknown class name 'goalpost'"),
    ],
)  # fmt: skip
def test_breakage_is_named_by_model_and_field(repo_copy: Path, model: str, old: str, new: str, expected: str) -> None:
    edit(repo_copy, model, old, new)
    problems = [str(p) for p in check_repository(repo_copy)]
    assert any(expected in p for p in problems), problems


def test_syntax_error_names_the_model(repo_copy: Path) -> None:
    edit(repo_copy, "preprocess", "max_batch_size: 8", "max_batch_size: eight")
    problems = [str(p) for p in check_repository(repo_copy)]
    assert len(problems) == 1 and problems[0].startswith("preprocess: config.pbtxt:"), problems


def test_python_model_without_model_py(repo_copy: Path) -> None:
    (repo_copy / "preprocess" / "1" / "model.py").unlink()
    assert [str(p) for p in check_repository(repo_copy)] == [
        "preprocess: 1/model.py: Python-backend model has no model.py"
    ]


def test_build_detector_cli_makes_a_stale_graph_current_again(repo_copy: Path) -> None:
    edit(
        repo_copy,
        "detector",
        'key: "iou_threshold", value: { string_value: "0.5"',
        'key: "iou_threshold", value: { string_value: "0.6"',
    )
    assert [p.field for p in check_repository(repo_copy)] == ["1/model.onnx"]
    result = CliRunner().invoke(app, ["model", "build", "--repository", str(repo_copy)])
    assert result.exit_code == 0, result.output
    assert check_repository(repo_copy) == []


def test_cli_exit_codes(repo_copy: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["repo", "check", str(repo_copy)])
    assert ok.exit_code == 0 and "ok" in ok.output
    edit(repo_copy, "detector", "TYPE_UINT8", "TYPE_FP32")
    broken = runner.invoke(app, ["repo", "check", str(repo_copy)])
    assert broken.exit_code == 1
    assert "detector: input[images]: dtype mismatch" in broken.output
