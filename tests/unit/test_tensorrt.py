from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.cli.app import app
from orchestrator.repository.tensorrt import ConversionError, TensorRtBuild, convert, trtexec_command


def test_trtexec_command_covers_the_batch_range(model_repository: Path, tmp_path: Path) -> None:
    onnx = model_repository / "detector" / "1" / "model.onnx"
    command = trtexec_command(TensorRtBuild(onnx, tmp_path / "model.plan", max_batch=16, opt_batch=4))
    assert f"--onnx={onnx}" in command
    assert "--minShapes=images:1x416x416x3,LETTERBOX:1x5" in command
    assert "--optShapes=images:4x416x416x3,LETTERBOX:4x5" in command
    assert "--maxShapes=images:16x416x416x3,LETTERBOX:16x5" in command
    assert command[-1] == "--fp16"


def test_convert_without_trtexec_fails_clearly(model_repository: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    build = TensorRtBuild(model_repository / "detector" / "1" / "model.onnx", tmp_path / "m.plan", 8, 4)
    with pytest.raises(ConversionError, match="trtexec not found"):
        convert(build)


def test_convert_reports_trtexec_failure(model_repository: Path, tmp_path: Path, monkeypatch) -> None:
    fake = tmp_path / "trtexec"
    fake.write_text("#!/bin/sh\necho '[E] unsupported operator' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    build = TensorRtBuild(model_repository / "detector" / "1" / "model.onnx", tmp_path / "m.plan", 8, 4)
    with pytest.raises(ConversionError, match=r"code 3:\n\[E\] unsupported operator"):
        convert(build)


def test_cli_dry_run_prints_the_command(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["convert", "onnx-to-trt", "--out", str(tmp_path / "m.plan"), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("trtexec --onnx=")
    assert "--maxShapes=images:64x416x416x3,LETTERBOX:64x5" in result.output
