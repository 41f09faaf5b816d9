from orchestrator.bench.compare import compare_reports, pipeline_comparison


def section(streams: int, p50: float, fps: float, dropped: int, added: float) -> dict:
    summary = {"p50_ms": p50, "p99_ms": p50 * 1.5}
    return {
        "configuration": {"streams": streams, "fps": 10.0, "duration_s": 30.0, "footage": "vtest.avi",
                          "server": "embedded"},
        "streams": [{"stream": f"camera-{i}", "achieved_fps": fps, "dropped": {"superseded": dropped}}
                    for i in range(streams)],
        "latency_ms": {"glass_to_event": summary, "queue": {"p50_ms": 1.0, "p99_ms": 2.0}},
        "added_latency_ms": added,
        "ratio_vs_direct": {"throughput": None, "mean": 1.5, "p50": p50 / 40.0, "p99": 2.0},
    }  # fmt: skip


def test_pipeline_sections_compare_figure_by_figure() -> None:
    lines = pipeline_comparison(section(1, 60.0, 10.0, 0, 20.0), section(3, 240.0, 5.0, 10, 200.0))
    assert lines[0] == "differs: pipeline.configuration.streams: 1 -> 3"
    rows = {line.strip().split("  ")[0]: line.split() for line in lines[2:]}
    assert rows["glass_to_event p50 ms"][-4:] == ["60.0", "240.0", "+300.0", "%"]
    assert rows["events/s, all streams"][-4:] == ["10.00", "15.00", "+50.0", "%"]
    assert rows["frames dropped"][-3:] == ["0.00", "30.00", "-"], "no relative change from zero"
    assert rows["added latency ms"][-4:] == ["20.00", "200.00", "+900.0", "%"]
    assert lines[-1].startswith("pipeline figures come from one run each: no measured noise")


def test_reports_without_a_shared_section_say_so() -> None:
    context = {"machine": {}, "versions": {}}
    a = {"created_at": "A", **context, "pipeline": section(1, 60.0, 10.0, 0, 20.0)}
    b = {"created_at": "B", **context}
    assert compare_reports(a, b)[-1] == "no model or pipeline section in both reports: nothing to compare"
