"""``pitchside bench model`` end to end, as CI runs it: short windows, JSON validated against the schema."""

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from orchestrator.bench.report_schema import schema_problems
from orchestrator.cli.app import app

pytestmark = pytest.mark.integration

runner = CliRunner()


def _bench(tmp_path: Path, *args: str) -> dict[str, Any]:
    path = tmp_path / "report.json"
    result = runner.invoke(app, ["bench", "model", "--quick", "--json", str(path), *args])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(path.read_text())
    assert schema_problems(report) == []
    return report


def _check_level_accounting(level: dict[str, Any]) -> None:
    totals, server = level["totals"], level["server"]["level_totals"]
    assert totals["failed"] == 0 and totals["completed"] == totals["sent"] > 0
    for name, model in server.items():
        assert model["requests"] == totals["sent"], name
        assert sum(int(size) * n for size, n in model["batch_histogram"].items()) == model["inferences"], name
        assert sum(model["batch_histogram"].values()) == model["executions"], name


def test_quick_sweep_against_a_running_server(tmp_path: Path, bench_triton_url: str) -> None:
    report = _bench(tmp_path, "--triton-url", bench_triton_url, "--wire", "raw")
    section = report["model"]
    assert section["configuration"]["server"] == "external" and section["configuration"]["levels"] == [1, 2]
    assert section["target"]["composing_models"] == ["preprocess", "detector"]
    assert section["detector"] == {
        "standin": False, "description": "the served detector",
        "bytes_in_per_frame": 416 * 416 * 3 + 5 * 4, "bytes_out_per_frame": 300 * 6 * 4 + 4,
    }  # fmt: skip
    (run,) = section["runs"]
    assert run["inputs"] == ["IMAGE_RAW"] and run["bytes_per_request"] == 576 * 768 * 3
    assert [lv["concurrency"] for lv in run["levels"]] == [1, 2]
    assert [lv["direct"]["batch_size"] for lv in run["levels"]] == [1, 2]
    for level in run["levels"]:
        _check_level_accounting(level)
        assert level["ratio_vs_direct"]["throughput"] > 0 and level["ratio_vs_direct"]["p50"] > 0
    assert run["summary"]["added_latency_ms"] is not None


def test_request_rate_with_both_wire_formats(tmp_path: Path, bench_triton_url: str) -> None:
    report = _bench(tmp_path, "--triton-url", bench_triton_url, "--request-rate", "3", "--wire", "both",
                    "--arrival", "poisson")  # fmt: skip
    runs = report["model"]["runs"]
    assert [(run["wire_format"], run["inputs"]) for run in runs] == [("raw", ["IMAGE_RAW"]), ("jpeg", ["IMAGE_BYTES"])]
    for run in runs:
        (level,) = run["levels"]
        assert level["request_rate"] == 3.0 and level["concurrency"] is None
        assert level["ratio_vs_direct"]["throughput"] is None
        _check_level_accounting(level)


def test_the_letterbox_wire_goes_straight_to_the_detector(tmp_path: Path, bench_triton_url: str) -> None:
    report = _bench(tmp_path, "--triton-url", bench_triton_url, "--concurrency", "1", "--frame-size", "1920x1080")
    section = report["model"]
    assert section["configuration"]["model"] == "detector" and section["target"]["stages"] == ["detector"]
    assert (section["configuration"]["footage"]["width"], section["configuration"]["footage"]["height"]) == (1920, 1080)
    (run,) = section["runs"]
    assert run["wire_format"] == "letterbox" and run["inputs"] == ["images", "LETTERBOX"]
    assert run["bytes_per_request"] == 416 * 416 * 3 + 5 * 4  # whatever the camera's resolution
    (level,) = run["levels"]
    _check_level_accounting(level)
    assert list(level["direct"]["stage_ms_per_batch"]) == ["detector"]


def test_the_standin_detector_measures_the_ceiling_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    result = runner.invoke(app, ["bench", "model", "--quick", "--standin-detector", "--concurrency", "4",
                                 "--frames", "4", "--json", str(path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "STAND-IN DETECTOR" in result.output
    report = json.loads(path.read_text())
    assert schema_problems(report) == []
    section = report["model"]
    assert section["detector"]["standin"] is True and "stand-in" in section["detector"]["description"]
    (level,) = section["runs"][0]["levels"]
    _check_level_accounting(level)
    assert section["runs"][0]["summary"]["targets"]["throughput_ratio_met"] is None  # no real detector to compare


def test_the_standin_refuses_an_external_server(bench_triton_url: str) -> None:
    result = runner.invoke(app, ["bench", "model", "--quick", "--standin-detector", "--triton-url", bench_triton_url])
    assert result.exit_code == 2 and "embedded server" in result.output


def test_an_unknown_model_fails_with_a_message(bench_triton_url: str) -> None:
    result = runner.invoke(app, ["bench", "model", "--quick", "--triton-url", bench_triton_url, "--model", "nope"])
    assert result.exit_code == 1
    assert "error:" in result.output and "nope" in result.output


def test_compare_two_real_reports(tmp_path: Path, bench_triton_url: str) -> None:
    report = _bench(tmp_path, "--triton-url", bench_triton_url, "--concurrency", "1")
    later = json.loads(json.dumps(report))
    later["model"]["runs"][0]["levels"][0]["client"]["throughput_fps"] *= 2
    (tmp_path / "a.json").write_text(json.dumps(report))
    (tmp_path / "b.json").write_text(json.dumps(later))
    result = runner.invoke(app, ["bench", "compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()]
    fps_row = next(row for row in rows if row[:3] == ["letterbox", "c=1", "fps"])
    assert fps_row[5:] == ["+100.0", "%", "-"], "one window per level (--quick): the noise is unknown, so no mark"


def test_defaults_start_an_embedded_server(tmp_path: Path) -> None:
    report = _bench(tmp_path, "--concurrency", "1")
    assert report["model"]["configuration"]["server"] == "embedded"
    assert report["model"]["configuration"]["model"] == "detector"
    assert report["model"]["configuration"]["footage"]["name"] == "vtest.avi"
    _check_level_accounting(report["model"]["runs"][0]["levels"][0])
