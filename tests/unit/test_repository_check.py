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
        ("detection", 'value: "letterboxed" }\n      output_map', 'value: "letterboxd" }\n      output_map',
         "detection: ensemble_scheduling.step[1].input_map['images']: tensor 'letterboxed' is not"),
        ("detection", 'input_map { key: "images"', 'input_map { key: "pictures"',
         "detection: ensemble_scheduling.step[1].input_map['pictures']: detector has no input 'pictures'"),
        ("preprocess", "TYPE_FP32\n    dims: [ 3, 416, 416 ]", "TYPE_FP16\n    dims: [ 3, 416, 416 ]",
         "dtype mismatch on 'letterboxed': produced TYPE_FP16, expected TYPE_FP32"),
        ("preprocess", "dims: [ 3, 416, 416 ]", "dims: [ 3, 640, 640 ]",
         "dims mismatch on 'letterboxed': produced [3, 640, 640], expected [3, 416, 416]"),
        ("detector", "dims: [ 84, 3549 ]", "dims: [ 84, 8400 ]",
         "detector: output[output0]: dims mismatch on 'graph output0': produced [84, 3549], expected [84, 8400]"),
        ("detector", 'name: "output0"', 'name: "predictions"',
         "detector: output[predictions]: the ONNX graph has no output 'predictions'"),
        ("detection", 'model_name: "postprocess"', 'model_name: "post_process"',
         "detection: ensemble_scheduling.step[2].model_name: no model 'post_process' in the repository"),
        ("detection", "max_batch_size: 8", "max_batch_size: 16", "detection: max_batch_size: 16 exceeds"),
        ("postprocess", 'input_data_file: "letterbox_identity"', 'input_data_file: "missing"',
         "postprocess: model_warmup[empty_frame].inputs['LETTERBOX']: warmup/missing is missing"),
        ("preprocess", 'name: "preprocess"', 'name: "pre"', "preprocess: name: config names the model 'pre'"),
    ],
)  # fmt: skip
def test_breakage_is_named_by_model_and_field(repo_copy: Path, model: str, old: str, new: str, expected: str) -> None:
    edit(repo_copy, model, old, new)
    problems = [str(p) for p in check_repository(repo_copy)]
    assert any(expected in p for p in problems), problems


def test_syntax_error_names_the_model(repo_copy: Path) -> None:
    edit(repo_copy, "postprocess", "max_batch_size: 8", "max_batch_size: eight")
    problems = [str(p) for p in check_repository(repo_copy)]
    assert len(problems) == 1 and problems[0].startswith("postprocess: config.pbtxt:"), problems


def test_python_model_without_model_py(repo_copy: Path) -> None:
    (repo_copy / "postprocess" / "1" / "model.py").unlink()
    assert [str(p) for p in check_repository(repo_copy)] == [
        "postprocess: 1/model.py: Python-backend model has no model.py"
    ]


def test_cli_exit_codes(repo_copy: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["repo", "check", str(repo_copy)])
    assert ok.exit_code == 0 and "ok" in ok.output
    edit(repo_copy, "detector", "TYPE_FP32", "TYPE_UINT8")
    broken = runner.invoke(app, ["repo", "check", str(repo_copy)])
    assert broken.exit_code == 1
    assert "detector: input[images]: dtype mismatch" in broken.output
