"""bench pipeline end to end against the real embedded server: the report validates and counts add up."""

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from orchestrator.bench.report_schema import report_schema
from orchestrator.cli.app import app

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def test_quick_pipeline_bench_writes_a_valid_report(bench_triton_url: str, tmp_path: Path) -> None:
    out = tmp_path / "pipeline.json"
    result = CliRunner().invoke(
        app, ["bench", "pipeline", "--quick", "--streams", "2", "--fps", "5", "--triton-url", bench_triton_url,
              "--json", str(out), "--plot-dir", str(tmp_path / "plots")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    jsonschema.validate(report, report_schema())
    section = report["pipeline"]
    assert section["configuration"] == {
        "streams": 2, "fps": 5.0, "duration_s": 3.0, "footage": "vtest.avi", "server": "external"
    }  # fmt: skip
    assert [s["stream"] for s in section["streams"]] == ["camera-0", "camera-1"]
    for stream in section["streams"]:
        assert stream["frames_in"] == 15, "5 fps for 3 s"
        assert stream["frames_out"] + sum(stream["dropped"].values()) == stream["frames_in"]
    stages = section["latency_ms"]
    assert set(stages) == {"decode", "queue", "inference", "glass_to_event"}
    assert stages["glass_to_event"]["count"] == sum(s["frames_out"] for s in section["streams"])
    assert stages["glass_to_event"]["p50_ms"] >= stages["inference"]["p50_ms"]
    assert section["direct"]["batch_size"] == 1 and section["direct"]["completed"] > 0
    expected_added = stages["glass_to_event"]["p50_ms"] - section["direct"]["latency_ms"]["p50_ms"]
    assert section["added_latency_ms"] == pytest.approx(expected_added)
    assert section["ratio_vs_direct"]["throughput"] is None, "live streams offer a rate, not a capacity"
    assert "added latency (glass-to-event p50 - direct p50)" in result.output
    assert set(section["cdf_ms_by_stage"]) == set(stages)
    assert section["cdf_ms_by_stage"]["glass_to_event"] == section["cdf_ms"]
    timeline = section["timeline"]
    assert [point["t_s"] for point in timeline] == [0.0, 1.0, 2.0], "3 s of footage, one point per second"
    assert sum(point["events"] for point in timeline) == stages["glass_to_event"]["count"]
    frames_in = sum(stream["frames_in"] for stream in section["streams"])
    assert sum(point["events"] + point["errors"] + point["dropped"] for point in timeline) == frames_in
    plots = sorted(path.name for path in (tmp_path / "plots").iterdir())
    assert plots == ["pipeline_drops.png", "pipeline_latency_cdf.png"]
