import numpy as np
import pytest

from orchestrator.bench.settings import WindowSettings
from orchestrator.bench.windows import Recorder, Window, is_stable, merge, reported, spread_pct

SECOND = 1_000_000_000


def _window(throughput: float, p50_ms: float) -> Window:
    return Window(0, SECOND, np.full(int(throughput), int(p50_ms * 1e6), dtype=np.int64), 0)


def test_a_window_holds_what_completed_inside_it() -> None:
    recorder = Recorder()
    recorder.record(0, 100)
    recorder.record(50, 200, frames=3)  # a direct batch: three frames complete together
    recorder.record_failure(250)
    recorder.record(100, 300)
    first, second = recorder.window(0, 250), recorder.window(250, 400)
    assert first.latencies_ns.tolist() == [100, 150, 150, 150] and first.failures == 0
    assert second.latencies_ns.tolist() == [200] and second.failures == 1


def test_throughput_counts_frames_per_second() -> None:
    assert Window(0, 2 * SECOND, np.ones(10, dtype=np.int64), 0).throughput == 5.0


def test_windows_within_the_spread_are_stable() -> None:
    settings = WindowSettings(max_windows=5, stable_windows=3, stability_pct=10)
    assert is_stable([_window(100, 50), _window(95, 52), _window(104, 49)], settings)


SETTINGS = WindowSettings(max_windows=5, stable_windows=3, stability_pct=10)


@pytest.mark.parametrize(
    ("fps", "stable"),
    [
        ((1000, 1099, 1050), True),  # max/min 1.099: inside 10 %
        ((1000, 1100, 1050), True),  # exactly 1.10: perf_analyzer accepts the limit
        ((1000, 1101, 1050), False),  # 1.101: just outside
        ((900, 1000, 1100), False),  # +-10 % of the mean (the old rule said stable): max/min is 1.22
    ],
)
def test_throughput_is_stable_when_max_over_min_is_within_the_percentage(fps: tuple[int, ...], stable: bool) -> None:
    assert is_stable([_window(f, 50) for f in fps], SETTINGS) is stable


@pytest.mark.parametrize(("slowest_ms", "stable"), [(54.9, True), (55.0, True), (55.1, False), (60.0, False)])
def test_latency_is_stable_when_max_over_min_is_within_the_percentage(slowest_ms: float, stable: bool) -> None:
    assert is_stable([_window(100, 50), _window(100, slowest_ms), _window(100, 52)], SETTINGS) is stable


def test_the_latency_metric_is_the_mean_unless_a_percentile_is_given() -> None:
    """perf_analyzer judges stability on the average latency by default, on --percentile N when given."""
    steady = np.full(100, 50_000_000, dtype=np.int64)
    tail = steady.copy()
    tail[-5:] = 500_000_000  # the slowest 5 %: p99 moves 10x, the mean only 1.45x, the p90 not at all
    windows = [Window(0, SECOND, steady, 0), Window(0, SECOND, tail, 0), Window(0, SECOND, steady, 0)]
    assert windows[1].latency_ns(None) == pytest.approx(72.5e6) and windows[1].latency_ns(99) == 500e6
    assert not is_stable(windows, SETTINGS)  # mean 50 -> 72.5 ms
    assert is_stable(windows, WindowSettings(max_windows=5, stable_windows=3, stability_pct=10, percentile=90))
    assert not is_stable(windows, WindowSettings(max_windows=5, stable_windows=3, stability_pct=10, percentile=99))
    assert SETTINGS.latency_metric == "mean"
    assert WindowSettings(percentile=95).latency_metric == "p95"


def test_spread_is_max_over_min_minus_one() -> None:
    assert spread_pct([100.0, 110.0, 105.0]) == pytest.approx(10.0)
    assert spread_pct([0.0, 1.0]) == float("inf")


@pytest.mark.parametrize(
    "windows",
    [
        [_window(100, 50), _window(70, 50), _window(100, 50)],  # throughput spread
        [_window(100, 50), _window(100, 65), _window(100, 50)],  # latency spread
        [_window(100, 50), _window(100, 50)],  # too few
        [_window(100, 50), _window(0, 0), _window(100, 50)],  # a window completed nothing
    ],
)
def test_windows_that_disagree_are_not_stable(windows: list[Window]) -> None:
    assert not is_stable(windows, WindowSettings(max_windows=5, stable_windows=3, stability_pct=10))


def test_the_report_merges_the_last_stable_windows() -> None:
    windows = [Window(i * SECOND, (i + 1) * SECOND, np.full(i + 1, i, dtype=np.int64), i) for i in range(4)]
    merged = reported(windows, WindowSettings(max_windows=4, stable_windows=2))
    assert (merged.start_ns, merged.end_ns, merged.failures) == (2 * SECOND, 4 * SECOND, 5)
    assert merged.latencies_ns.tolist() == [2, 2, 2, 3, 3, 3, 3]
    assert merge(windows).latencies_ns.size == 10


def test_window_settings_reject_impossible_rules() -> None:
    with pytest.raises(ValueError, match="stable_windows"):
        WindowSettings(max_windows=2, stable_windows=3)
    with pytest.raises(ValueError, match="measurement interval"):
        WindowSettings(window_s=0)
    with pytest.raises(ValueError, match="--percentile"):
        WindowSettings(percentile=100)
