import copy
import json
from importlib import resources

import pytest
from bench_results import level, make_result

from orchestrator.bench.model_bench import ModelBenchResult
from orchestrator.bench.report import model_report
from orchestrator.bench.report_schema import ReportInvalidError, schema_problems, validate_report
from orchestrator.bench.settings import LoadMode


def test_a_report_validates_against_the_shipped_schema(sweep_result: ModelBenchResult) -> None:
    report = model_report(sweep_result)
    assert schema_problems(report) == []
    assert schema_problems(json.loads(json.dumps(report))) == []  # and survives a JSON round trip


def test_the_schema_ships_inside_the_package() -> None:
    text = resources.files("orchestrator.bench").joinpath("report.schema.json").read_text()
    assert json.loads(text)["properties"]["schema"] == {"const": "pitchside-bench-report"}


def test_ratios_are_through_pitchside_over_direct(sweep_result: ModelBenchResult) -> None:
    first, second = model_report(sweep_result)["model"]["runs"][0]["levels"]
    assert first["concurrency"] == 1 and first["request_rate"] is None
    assert first["ratio_vs_direct"]["throughput"] == pytest.approx(20 / 25)
    assert first["ratio_vs_direct"]["p50"] == pytest.approx(50 / 40)
    assert second["ratio_vs_direct"]["p99"] == pytest.approx(66 / 80)
    assert first["direct"]["stage_ms_per_batch"] == {"preprocess": 1.0, "detector": 20.0}


def test_the_summary_takes_the_best_level_against_the_best_direct(sweep_result: ModelBenchResult) -> None:
    summary = model_report(sweep_result)["model"]["runs"][0]["summary"]
    assert summary["saturation"]["concurrency"] == 2
    assert summary["saturation"]["ratio_vs_direct"] == pytest.approx(30 / 25)
    assert summary["added_latency_ms"] == pytest.approx(10.0)
    assert summary["targets"]["throughput_ratio_met"] is True and summary["targets"]["added_latency_met"] is False


def test_server_breakdown_and_client_overhead(sweep_result: ModelBenchResult) -> None:
    server = model_report(sweep_result)["model"]["runs"][0]["levels"][0]["server"]
    assert list(server["models"]) == ["detection", "preprocess", "detector"]
    assert server["models"]["detector"]["avg_batch_size"] == 1.0
    assert server["client_overhead_ms"] == pytest.approx(1.0)


def test_request_rate_mode_has_no_throughput_ratio() -> None:
    result = make_result((level(5, 5, 50.0, 25, 40.0),), LoadMode.REQUEST_RATE)
    report = model_report(result)
    only = report["model"]["runs"][0]["levels"][0]
    assert only["request_rate"] == 5.0 and only["concurrency"] is None
    assert only["ratio_vs_direct"]["throughput"] is None and only["ratio_vs_direct"]["p50"] == pytest.approx(1.25)
    assert report["model"]["runs"][0]["summary"]["targets"]["throughput_ratio_met"] is None
    assert schema_problems(report) == []


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        (("schema_version",), 2, "$.schema_version"),
        (("model", "runs", 0, "levels", 0, "client", "throughput_fps"), "fast", "throughput_fps"),
        (("model", "runs", 0, "levels", 0, "server", "models", "detector", "queue_ms"), -1.0, "queue_ms"),
        (("model", "configuration", "mode"), "burst", "mode"),
    ],
)
def test_a_broken_report_is_rejected_with_its_path(
    sweep_result: ModelBenchResult, path: tuple[str | int, ...], value: object, fragment: str
) -> None:
    report = copy.deepcopy(model_report(sweep_result))
    node = report
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ReportInvalidError) as raised:
        validate_report(report)
    assert any(fragment in problem for problem in raised.value.problems)


def test_a_report_without_any_section_is_rejected(sweep_result: ModelBenchResult) -> None:
    report = model_report(sweep_result)
    del report["model"]
    assert schema_problems(report)


def test_a_pipeline_section_of_the_documented_shape_validates(sweep_result: ModelBenchResult) -> None:
    report = model_report(sweep_result)
    latency = report["model"]["runs"][0]["levels"][0]["client"]["latency_ms"]
    direct = report["model"]["runs"][0]["levels"][0]["direct"]
    report["pipeline"] = {
        "configuration": {"streams": 2, "fps": 10, "duration_s": 30, "footage": "vtest.avi", "server": "embedded"},
        "streams": [{"stream": "s0", "frames_in": 300, "frames_out": 298, "achieved_fps": 9.9,
                     "dropped": {"stale": 2}}],
        "latency_ms": {"glass_to_event": latency, "infer": latency},
        "cpu": {"process_pct": 40.0, "machine_busy_pct": 90.0},
        "direct": direct,
        "ratio_vs_direct": {"throughput": None, "mean": 1.1, "p50": 1.1, "p99": 1.3},
        "added_latency_ms": 2.5,
    }  # fmt: skip
    assert schema_problems(report) == []
    del report["pipeline"]["latency_ms"]["glass_to_event"]
    assert schema_problems(report)
