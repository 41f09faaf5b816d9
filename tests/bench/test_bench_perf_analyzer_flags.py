"""perf_analyzer's flags against the real server: the levels, windows and percentile they set, the -f CSV (its
header, and numbers equal to the JSON report's), and the --input-data export of the frames."""

import base64
import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from orchestrator.bench.report_schema import schema_problems
from orchestrator.cli.app import app

pytestmark = pytest.mark.integration

runner = CliRunner()

PERF_ANALYZER_COLUMNS = [
    "Inferences/Second", "Client Send", "Network+Server Send/Recv", "Server Queue", "Server Compute Input",
    "Server Compute Infer", "Server Compute Output", "Client Recv", "p50 latency", "p90 latency", "p95 latency",
    "p99 latency", "Avg latency", "request/response", "response wait",
]  # fmt: skip


def _run(tmp_path: Path, *args: str) -> tuple[dict[str, Any], list[str], list[dict[str, str]], str]:
    report_path, csv_path = tmp_path / "report.json", tmp_path / "pa.csv"
    result = runner.invoke(app, ["bench", "model", "--warmup-s", "0.2", "--frames", "4", "--json", str(report_path),
                                 "-f", str(csv_path), *args])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    assert schema_problems(report) == []
    with csv_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    return report, list(reader.fieldnames or []), rows, result.output


def _csv_equals_json(row: dict[str, str], level: dict[str, Any], model: str) -> None:
    latency, server = level["client"]["latency_ms"], level["server"]["models"][model]
    assert float(row["Inferences/Second"]) == level["client"]["throughput_fps"]
    for column, key in (("p50 latency", "p50_ms"), ("p90 latency", "p90_ms"), ("p95 latency", "p95_ms"),
                        ("p99 latency", "p99_ms"), ("Avg latency", "mean_ms")):  # fmt: skip
        assert int(row[column]) == round(latency[key] * 1000), column
    for column, key in (
        ("Server Queue", "queue_ms"),
        ("Server Compute Input", "compute_input_ms"),
        ("Server Compute Infer", "compute_infer_ms"),
        ("Server Compute Output", "compute_output_ms"),
    ):
        assert int(row[column]) == round(server[key] * 1000), column
    steps = sum(int(row[c]) for c in ("Server Queue", "Server Compute Input", "Server Compute Infer",
                                      "Server Compute Output"))  # fmt: skip
    assert int(row["Network+Server Send/Recv"]) == max(0, int(row["Avg latency"]) - steps)


def test_concurrency_range_and_perf_analyzer_window_flags(tmp_path: Path, bench_triton_url: str) -> None:
    frames = tmp_path / "frames.json"
    report, header, rows, output = _run(
        tmp_path, "-u", bench_triton_url, "-m", "detector", "--concurrency-range", "1:3:2", "-p", "600",
        "--percentile", "95", "-s", "50", "-r", "2", "--stable-windows", "1", "--export-input-data", str(frames),
    )  # fmt: skip
    section = report["model"]
    config = section["configuration"]
    assert (config["model"], config["server"], config["mode"], config["levels"]) == (
        "detector",
        "external",
        "concurrency",
        [1, 3],
    )
    assert config["windows"] | {"warmup_s": None} == {
        "warmup_s": None, "window_s": 0.6, "max_windows": 2, "stable_windows": 1, "stability_pct": 50.0,
        "latency_metric": "p95",
    }  # fmt: skip
    (run,) = section["runs"]
    assert [level["concurrency"] for level in run["levels"]] == [1, 3]
    for level in run["levels"]:
        client = level["client"]
        assert 1 <= client["windows_measured"] <= 2 and len(client["windows"]) == 1
        assert client["percentile_ms"]["percentile"] == 95
        assert client["latency_ms"]["p90_ms"] <= client["percentile_ms"]["value_ms"] <= client["latency_ms"]["p99_ms"]
    assert header == ["Concurrency", *PERF_ANALYZER_COLUMNS]
    assert [row["Concurrency"] for row in rows] == ["1", "3"]
    for row, level in zip(rows, run["levels"], strict=True):
        _csv_equals_json(row, level, "detector")
    data = json.loads(frames.read_text())["data"]
    assert len(data) == 4 and [entry["images"]["shape"] for entry in data] == [[416, 416, 3]] * 4
    assert len(base64.b64decode(data[0]["images"]["content"]["b64"])) == 416 * 416 * 3
    assert data[0]["LETTERBOX"]["shape"] == [5] and data[0]["LETTERBOX"]["content"][3:] == [768.0, 576.0]
    assert f"--input-data {frames} --concurrency-range 1:3:2 --measurement-interval 600" in output
    assert "--percentile 95" in output


def test_request_rate_range(tmp_path: Path, bench_triton_url: str) -> None:
    report, header, rows, _ = _run(tmp_path, "-u", bench_triton_url, "--request-rate-range", "2:4:2", "-p", "800",
                                   "-r", "1", "--stable-windows", "1", "--no-direct")  # fmt: skip
    section = report["model"]
    assert section["configuration"]["mode"] == "request_rate" and section["configuration"]["levels"] == [2.0, 4.0]
    assert header == ["Request Rate", *PERF_ANALYZER_COLUMNS]
    assert [row["Request Rate"] for row in rows] == ["2.0", "4.0"]
    for row, level in zip(rows, section["runs"][0]["levels"], strict=True):
        assert level["totals"]["failed"] == 0
        _csv_equals_json(row, level, "detector")
