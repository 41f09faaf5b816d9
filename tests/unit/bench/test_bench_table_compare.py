import copy

from orchestrator.bench.compare import compare_reports, noise_pct
from orchestrator.bench.model_bench import ModelBenchResult
from orchestrator.bench.report import model_report
from orchestrator.bench.table import render_report
from orchestrator.bench.text_table import render_rows


def test_the_table_shows_each_level_with_its_ratio(sweep_result: ModelBenchResult) -> None:
    text = render_report(model_report(sweep_result))
    row = next(line for line in text.splitlines() if line.strip().startswith("c=1") and "yes/yes" in line)
    assert row.split()[:3] == ["c=1", "20.0", "50.0"]
    assert "0.80" in row.split() and "1.25" in row.split()
    assert "saturation: 30.0 fps at c=2; direct best 25.0 fps; ratio 1.20 (target >= 0.90: met)" in text
    assert "+10.0 ms (target <= 3 ms: MISSED)" in text


def test_a_busy_machine_is_called_out(sweep_result: ModelBenchResult) -> None:
    report = model_report(sweep_result)
    assert "WARNING" not in render_report(report)  # load 0.5 on 2 CPUs
    report["machine"]["load_average"] = [3.2, 2.0, 1.0]
    assert "WARNING: the machine was already busy before the run (load 3.2 on 2 CPUs)" in render_report(report)


def test_rows_are_right_aligned_to_the_widest_cell() -> None:
    assert render_rows(("a", "bb"), [("100", "1")]) == ["  a  bb", "100   1"]


def test_compare_matches_levels_and_gives_the_change(sweep_result: ModelBenchResult) -> None:
    a = model_report(sweep_result)
    b = copy.deepcopy(a)
    b["model"]["runs"][0]["levels"][0]["client"]["throughput_fps"] = 25.0
    b["machine"]["cpu_model"] = "other CPU"
    lines = compare_reports(a, b)
    assert "differs: machine.cpu_model: test CPU -> other CPU" in lines
    fps_row = next(line.split() for line in lines if line.split()[:3] == ["raw", "c=1", "fps"])
    assert fps_row[3:] == ["20.00", "25.00", "+25.0", "%", "±2.0", "%", "*"], "+25 % is far beyond 2 % noise"
    assert any(line.split()[:4] == ["raw", "c=2", "fps", "30.00"] for line in lines)
    p50_row = next(line.split() for line in lines if line.split()[:3] == ["raw", "c=1", "p50"])
    assert p50_row[3:] == ["50.00", "50.00", "+0.0", "%", "±2.0", "%"], "no change: no mark"
    ratio_row = next(line.split() for line in lines if line.split()[:4] == ["raw", "c=1", "fps", "ratio"])
    assert ratio_row[-4:] == ["+0.0", "%", "±4.0", "%"], "a ratio carries the noise of both its sides"


def test_a_change_inside_the_measured_noise_is_not_marked(sweep_result: ModelBenchResult) -> None:
    a = model_report(sweep_result)
    b = copy.deepcopy(a)
    level = b["model"]["runs"][0]["levels"][0]
    level["client"]["throughput_fps"] = 20.3  # +1.5 %: inside the 2 % the windows spread
    for window in level["client"]["windows"]:
        window["throughput_fps"] *= 1.015
    fps_row = next(line.split() for line in compare_reports(a, b) if line.split()[:3] == ["raw", "c=1", "fps"])
    assert fps_row[3:] == ["20.00", "20.30", "+1.5", "%", "±2.0", "%"]


def test_noise_is_unknown_for_reports_without_windows(sweep_result: ModelBenchResult) -> None:
    a = model_report(sweep_result)
    for level in a["model"]["runs"][0]["levels"]:
        del level["client"]["windows"]
    fps_row = next(line.split() for line in compare_reports(a, a) if line.split()[:3] == ["raw", "c=1", "fps"])
    assert fps_row[3:] == ["20.00", "20.00", "+0.0", "%", "-"]
    assert noise_pct(a["model"]["runs"][0]["levels"][0], "fps") is None


def test_compare_says_when_no_level_matches(sweep_result: ModelBenchResult) -> None:
    a = model_report(sweep_result)
    b = copy.deepcopy(a)
    for lv in b["model"]["runs"][0]["levels"]:
        lv["concurrency"] += 10
    assert compare_reports(a, b)[-1] == "no level appears in both reports"
