"""perf_analyzer's -f CSV, written from a report: its header, microseconds, and the report's own numbers."""

import csv
from pathlib import Path

from bench_results import level, make_result

from orchestrator.bench.model_bench import ModelBenchResult
from orchestrator.bench.perf_csv import output_paths, write_csv
from orchestrator.bench.report import model_report
from orchestrator.bench.settings import LoadMode

PERF_ANALYZER_HEADER = (
    "Concurrency,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,Server Compute Input,"
    "Server Compute Infer,Server Compute Output,Client Recv,p50 latency,p90 latency,p95 latency,p99 latency,"
    "Avg latency,request/response,response wait"
)


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return path.read_text(encoding="utf-8").splitlines()[0].split(","), rows


def test_the_csv_has_perf_analyzers_header_and_the_reports_numbers(
    tmp_path: Path, sweep_result: ModelBenchResult
) -> None:
    report = model_report(sweep_result)
    section = report["model"]
    write_csv(tmp_path / "out.csv", section, section["runs"][0])
    header, rows = _read(tmp_path / "out.csv")
    assert ",".join(header) == PERF_ANALYZER_HEADER
    assert [row["Concurrency"] for row in rows] == ["1", "2"]
    for row, level_json in zip(rows, section["runs"][0]["levels"], strict=True):
        latency, server = level_json["client"]["latency_ms"], level_json["server"]["models"]["detection"]
        assert float(row["Inferences/Second"]) == level_json["client"]["throughput_fps"]
        for column, key in (("p50 latency", "p50_ms"), ("p90 latency", "p90_ms"), ("p95 latency", "p95_ms"),
                            ("p99 latency", "p99_ms"), ("Avg latency", "mean_ms")):  # fmt: skip
            assert int(row[column]) == round(latency[key] * 1000), column
        for column, key in (("Server Queue", "queue_ms"), ("Server Compute Input", "compute_input_ms"),
                            ("Server Compute Infer", "compute_infer_ms"),
                            ("Server Compute Output", "compute_output_ms")):  # fmt: skip
            assert int(row[column]) == round(server[key] * 1000), column
    first = rows[0]  # c=1: 50 ms per frame; the server queued 4.9 ms and computed 24.5 ms of it
    assert (first["Avg latency"], first["Server Queue"], first["Server Compute Infer"]) == ("50000", "4900", "24500")
    assert first["Network+Server Send/Recv"] == str(50000 - 4900 - 24500)
    assert (first["Client Send"], first["Client Recv"], first["request/response"]) == ("0", "0", "0")
    assert first["response wait"] == first["Avg latency"]


def test_request_rate_mode_names_its_first_column_as_perf_analyzer_does(tmp_path: Path) -> None:
    result = make_result((level(5, 5, 50.0, 25, 40.0),), LoadMode.REQUEST_RATE)
    section = model_report(result)["model"]
    write_csv(tmp_path / "rate.csv", section, section["runs"][0])
    header, rows = _read(tmp_path / "rate.csv")
    assert header[0] == "Request Rate" and header[1:] == PERF_ANALYZER_HEADER.split(",")[1:]
    assert rows[0]["Request Rate"] == "5.0"


def test_one_csv_per_wire_format_when_there_are_several() -> None:
    assert output_paths(Path("out/pa.csv"), ["letterbox"]) == [Path("out/pa.csv")]
    assert output_paths(Path("out/pa.csv"), ["raw", "jpeg"]) == [Path("out/pa.raw.csv"), Path("out/pa.jpeg.csv")]
