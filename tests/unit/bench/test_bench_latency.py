import itertools

import numpy as np

from orchestrator.bench.latency import LatencySummary, cdf_points


def test_percentiles_are_nearest_rank_observed_values() -> None:
    summary = LatencySummary.of([ms * 1_000_000 for ms in range(1, 101)])
    assert summary is not None
    assert (summary.count, summary.min_ms, summary.max_ms) == (100, 1.0, 100.0)
    assert (summary.p50_ms, summary.p90_ms, summary.p95_ms, summary.p99_ms) == (50.0, 90.0, 95.0, 99.0)
    assert summary.mean_ms == 50.5


def test_no_sample_gives_no_summary() -> None:
    assert LatencySummary.of([]) is None


def test_cdf_is_ascending_and_ends_at_one() -> None:
    points = cdf_points(np.arange(1, 1001, dtype=np.int64) * 1_000_000, points=50)
    assert len(points) == 50
    assert points[0] == [1.0, 0.001] and points[-1] == [1000.0, 1.0]
    assert all(a[0] <= b[0] and a[1] < b[1] for a, b in itertools.pairwise(points))


def test_cdf_of_nothing_is_empty() -> None:
    assert cdf_points(np.empty(0, dtype=np.int64)) == []
