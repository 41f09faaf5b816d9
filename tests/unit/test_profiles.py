"""GPU profile rendered from the one repository: only the detector changes, and the result checks clean."""

import filecmp
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.cli.app import app
from orchestrator.repository.check import check_repository
from orchestrator.repository.model_config import load_repository
from orchestrator.repository.profiles import PLAN_FILE, Profile, render


def test_gpu_profile_swaps_in_a_tensorrt_detector(model_repository: Path, tmp_path: Path) -> None:
    plan = tmp_path / "built.plan"
    plan.write_bytes(b"engine bytes")
    out = tmp_path / "gpu"
    render(model_repository, Profile.GPU, out, plan)

    source, rendered = load_repository(model_repository), load_repository(out)
    detector = rendered["detector"].config
    assert detector.platform == "tensorrt_plan" and not detector.backend
    assert detector.default_model_filename == PLAN_FILE
    assert [g.kind for g in detector.instance_group] == [detector.instance_group[0].KIND_GPU]
    assert "onnx_file" not in detector.parameters
    assert list(detector.input) == list(source["detector"].config.input)
    assert list(detector.output) == list(source["detector"].config.output)
    assert (out / "detector" / "1" / PLAN_FILE).read_bytes() == b"engine bytes"
    assert not (out / "detector" / "1" / "model.py").exists() and not (out / "detector" / "1" / "model.onnx").exists()
    for name in ("detection", "preprocess", "postprocess"):
        assert rendered[name].config == source[name].config
        assert filecmp.cmp(model_repository / name / "config.pbtxt", out / name / "config.pbtxt", shallow=False)
    assert check_repository(out) == []


def test_gpu_profile_without_plan_reports_the_missing_engine(model_repository: Path, tmp_path: Path) -> None:
    render(model_repository, Profile.GPU, tmp_path / "gpu")
    assert [str(p) for p in check_repository(tmp_path / "gpu")] == [
        "detector: default_model_filename: 1/model.plan is missing"
    ]


def test_cpu_profile_is_the_repository_itself(model_repository: Path, tmp_path: Path) -> None:
    render(model_repository, Profile.CPU, tmp_path / "cpu")
    compare = filecmp.dircmp(model_repository / "detector", tmp_path / "cpu" / "detector", ignore=["__pycache__"])
    assert not compare.left_only and not compare.diff_files


def test_render_refuses_a_non_empty_target(model_repository: Path, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError):
        render(model_repository, Profile.GPU, tmp_path)


def test_render_cli(model_repository: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["repo", "render", "--profile", "gpu", "--out", str(tmp_path / "gpu")])
    assert result.exit_code == 0, result.output
    assert "model.plan is missing" in result.output
    assert load_repository(tmp_path / "gpu")["detector"].config.platform == "tensorrt_plan"
