"""CLI paths that need no server: argument errors, compare, schema."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.bench.model_bench import ModelBenchResult
from orchestrator.bench.report import model_report
from orchestrator.cli.app import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--concurrency", "1", "--request-rate", "5"], "not both"),
        (["--concurrency", "1,x"], "comma-separated numbers"),
        (["--concurrency", "1.5"], "whole numbers"),
        (["--request-rate", "0"], "positive"),
        (["--wire", "png"], "--wire must be one of"),
        (["--max-windows", "1", "--stable-windows", "2"], "stable_windows"),
    ],
)
def test_bad_model_arguments_exit_2_before_any_server_starts(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["bench", "model", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_compare_prints_both_reports(tmp_path: Path, sweep_result: ModelBenchResult) -> None:
    report = model_report(sweep_result)
    (tmp_path / "a.json").write_text(json.dumps(report))
    (tmp_path / "b.json").write_text(json.dumps(report))
    result = runner.invoke(app, ["bench", "compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    assert result.exit_code == 0, result.output
    assert "+0.0 %" in result.output and "c=2" in result.output


def test_compare_refuses_a_report_that_breaks_the_schema(tmp_path: Path, sweep_result: ModelBenchResult) -> None:
    report = model_report(sweep_result)
    (tmp_path / "good.json").write_text(json.dumps(report))
    del report["machine"]
    (tmp_path / "bad.json").write_text(json.dumps(report))
    result = runner.invoke(app, ["bench", "compare", str(tmp_path / "good.json"), str(tmp_path / "bad.json")])
    assert result.exit_code == 1
    assert "bad.json is not a valid pitchside bench report" in result.output and "machine" in result.output


def test_compare_refuses_a_file_that_is_not_json(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{")
    result = runner.invoke(app, ["bench", "compare", str(tmp_path / "a.json"), str(tmp_path / "a.json")])
    assert result.exit_code == 1 and "not a valid" in result.output


def test_schema_prints_the_shipped_schema() -> None:
    result = runner.invoke(app, ["bench", "schema"])
    assert result.exit_code == 0
    assert json.loads(result.output)["$id"] == "urn:pitchside:bench-report:1"
