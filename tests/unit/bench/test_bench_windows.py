import numpy as np
import pytest

from orchestrator.bench.settings import WindowSettings
from orchestrator.bench.windows import Recorder, Window, is_stable, merge, reported

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
    with pytest.raises(ValueError, match="window_s"):
        WindowSettings(window_s=0)
