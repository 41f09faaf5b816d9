"""CLI paths that need no server: argument errors, compare, schema."""

import csv
import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.bench.model_bench import ModelBenchResult
from orchestrator.bench.progress import BenchProgress
from orchestrator.bench.report import model_report
from orchestrator.bench.settings import ModelBenchConfig
from orchestrator.cli import bench as bench_cli
from orchestrator.cli.app import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--concurrency", "1", "--request-rate", "5"], "not both"),
        (["--concurrency-range", "1:4", "--request-rate-range", "5"], "not both"),
        (["--concurrency", "1,x"], "comma-separated numbers or start:end:step"),
        (["--concurrency-range", "8:1:1"], "a range needs start <= end and a positive step"),
        (["--concurrency", "1.5"], "whole numbers"),
        (["--request-rate", "0"], "positive"),
        (["--wire", "png"], "--wire must be one of"),
        (["--max-windows", "1", "--stable-windows", "2"], "raise --max-windows or lower --stable-windows"),
        (["-r", "1", "--stable-windows", "2"], "raise --max-windows or lower --stable-windows"),
        (["-p", "500", "--window-s", "1"], "give --measurement-interval (ms) or --window-s (s), not both"),
        (["-p", "0"], "the measurement interval must be positive"),
        (["--percentile", "100"], "--percentile must be a whole number from 1 to 99"),
        (["-s", "0"], "--stability-percentage must be positive"),
        (["--footage", "no-such-clip.avi"], "--footage no-such-clip.avi is not a file"),
        (["-f", "no-such-dir/pa.csv"], "-f/--csv no-such-dir/pa.csv: directory"),
        (["--json", "no-such-dir/r.json"], "does not exist; create it first"),
        (["-i", "http"], "-i http: pitchside speaks gRPC only; use -i grpc"),
        (["-b", "4"], "-b 4: pitchside sends one frame per request"),
        (["--standin-detector", "-u", "localhost:8001"], "needs the embedded server: leave out -u/--triton-url"),
    ],
)
def test_bad_model_arguments_exit_2_in_one_line_before_any_server_starts(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["bench", "model", *args])
    assert result.exit_code == 2
    (line,) = result.output.splitlines()
    assert line.startswith("error: ") and message in line


def test_perf_analyzer_flags_reach_the_configuration_and_the_outputs(
    tmp_path: Path, sweep_result: ModelBenchResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """-m -u --concurrency-range -p --percentile -s -r -f as perf_analyzer reads them; the run itself is
    replaced by known figures (tests/bench runs the same flags against the real server)."""
    seen: list[ModelBenchConfig] = []

    async def fake_run(config: ModelBenchConfig, progress: BenchProgress) -> ModelBenchResult:
        seen.append(config)
        progress.note("fake run")
        return dataclasses.replace(sweep_result, config=config)

    monkeypatch.setattr(bench_cli, "run_model_bench", fake_run)
    args = ["bench", "model", "-m", "detection", "-u", "triton.example:8001", "-i", "grpc", "-b", "1",
            "--concurrency-range", "1:2:1",
            "-p", "1500", "--percentile", "95", "-s", "5", "-r", "4", "--stable-windows", "2",
            "-f", str(tmp_path / "pa.csv"), "--json", str(tmp_path / "r.json")]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    (config,) = seen
    assert (config.model, config.triton_url, config.load.levels) == ("detection", "triton.example:8001", (1.0, 2.0))
    windows = config.windows
    assert (windows.window_s, windows.percentile, windows.stability_pct, windows.max_windows) == (1.5, 95, 5.0, 4)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["model"]["configuration"]["windows"]["latency_metric"] == "p95"
    assert report["model"]["runs"][0]["levels"][0]["client"]["percentile_ms"] == {"percentile": 95, "value_ms": 50.0}
    assert "p95" in next(line for line in result.output.splitlines() if line.lstrip().startswith("level")).split()
    with (tmp_path / "pa.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["Concurrency"] for row in rows] == ["1", "2"]
    assert [float(row["Inferences/Second"]) for row in rows] == [20.0, 30.0]


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


def test_compare_names_a_missing_file_in_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bench", "compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"error: cannot read {tmp_path / 'a.json'}: No such file or directory; give the path of a report written "
        "with --json"
    ]


def test_pipeline_refuses_missing_footage_in_one_line() -> None:
    result = runner.invoke(app, ["bench", "pipeline", "--footage", "no-such-clip.avi"])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "error: --footage no-such-clip.avi is not a file: give a video or image, e.g. media/vtest.avi"
    ]
