"""Latency distributions summarised the way perf_analyzer reports them."""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

PERCENTILES: Final = (50, 90, 95, 99)
_NS_PER_MS: Final = 1e6


@dataclass(frozen=True)
class LatencySummary:
    """Milliseconds. Percentiles are nearest-rank: every reported value is a latency actually observed."""

    count: int
    mean_ms: float
    std_ms: float
    min_ms: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, latencies_ns: Sequence[int] | npt.NDArray[np.int64]) -> "LatencySummary | None":
        """Summary of a non-empty sample; None for an empty one (nothing completed)."""
        values = np.asarray(latencies_ns, dtype=np.float64) / _NS_PER_MS
        if values.size == 0:
            return None
        p50, p90, p95, p99 = np.percentile(values, PERCENTILES, method="inverted_cdf")
        return cls(
            count=int(values.size),
            mean_ms=float(values.mean()),
            std_ms=float(values.std()),
            min_ms=float(values.min()),
            p50_ms=float(p50),
            p90_ms=float(p90),
            p95_ms=float(p95),
            p99_ms=float(p99),
            max_ms=float(values.max()),
        )

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def cdf_points(latencies_ns: npt.NDArray[np.int64], points: int = 200) -> list[list[float]]:
    """At most ``points`` (latency_ms, fraction <= it) pairs, enough to redraw the CDF from the JSON."""
    values = np.sort(np.asarray(latencies_ns, dtype=np.float64)) / _NS_PER_MS
    if values.size == 0:
        return []
    picks = np.unique(np.linspace(0, values.size - 1, min(points, values.size)).round().astype(np.int64))
    return [[float(values[i]), float((i + 1) / values.size)] for i in picks]
