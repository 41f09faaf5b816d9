"""Triton's own statistics per model, diffed between two snapshots into a server-side breakdown.

Counters come from ``get_inference_statistics``. For a model that batches, ``requests`` counts requests,
``inferences`` counts batch items and ``executions`` counts the batches the dynamic batcher formed, so
``inferences / executions`` is the average batch size actually run.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

_NS_PER_MS: Final = 1e6
_DURATIONS: Final = ("success", "fail", "queue", "compute_input", "compute_infer", "compute_output")


@dataclass(frozen=True)
class ModelCounters:
    """Cumulative counters of one model (all versions summed). ``durations[k]`` is (count, total ns)."""

    inferences: int = 0
    executions: int = 0
    durations: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    batches: Mapping[int, int] = field(default_factory=dict)
    """Batch size -> number of executions of that size."""

    def count(self, key: str) -> int:
        return self.durations.get(key, (0, 0))[0]

    def mean_ms(self, key: str) -> float | None:
        """Mean per request of duration ``key`` in ms; None when no request was counted."""
        count, total_ns = self.durations.get(key, (0, 0))
        return total_ns / count / _NS_PER_MS if count else None

    def minus(self, earlier: "ModelCounters") -> "ModelCounters":
        return ModelCounters(
            self.inferences - earlier.inferences,
            self.executions - earlier.executions,
            {k: _pair_minus(self.durations.get(k, (0, 0)), earlier.durations.get(k, (0, 0))) for k in _DURATIONS},
            _nonzero({size: n - earlier.batches.get(size, 0) for size, n in self.batches.items()}),
        )

    def plus(self, other: "ModelCounters") -> "ModelCounters":
        sizes = set(self.batches) | set(other.batches)
        return ModelCounters(
            self.inferences + other.inferences,
            self.executions + other.executions,
            {k: _pair_plus(self.durations.get(k, (0, 0)), other.durations.get(k, (0, 0))) for k in _DURATIONS},
            {size: self.batches.get(size, 0) + other.batches.get(size, 0) for size in sizes},
        )


Snapshot = Mapping[str, ModelCounters]
"""Model name -> its cumulative counters at one moment."""


def parse_statistics(payload: Mapping[str, Any], models: tuple[str, ...]) -> dict[str, ModelCounters]:
    """``get_inference_statistics(as_json=True)`` -> counters of ``models`` (zero for one never run)."""
    snapshot = {name: ModelCounters() for name in models}
    for entry in payload.get("model_stats", []):
        name = str(entry.get("name", ""))
        if name in snapshot:
            snapshot[name] = snapshot[name].plus(_counters(entry))
    return snapshot


def diff(later: Snapshot, earlier: Snapshot) -> dict[str, ModelCounters]:
    return {name: counters.minus(earlier.get(name, ModelCounters())) for name, counters in later.items()}


def breakdown(counters: ModelCounters) -> dict[str, Any]:
    """The report's view of one model over an interval (means per request, in ms)."""
    return {
        "requests": counters.count("success"),
        "failures": counters.count("fail"),
        "inferences": counters.inferences,
        "executions": counters.executions,
        "avg_batch_size": counters.inferences / counters.executions if counters.executions else None,
        "batch_histogram": {str(size): n for size, n in sorted(counters.batches.items())},
        "request_ms": counters.mean_ms("success"),
        "queue_ms": counters.mean_ms("queue"),
        "compute_input_ms": counters.mean_ms("compute_input"),
        "compute_infer_ms": counters.mean_ms("compute_infer"),
        "compute_output_ms": counters.mean_ms("compute_output"),
    }


def _counters(entry: Mapping[str, Any]) -> ModelCounters:
    stats = entry.get("inference_stats", {})
    return ModelCounters(
        inferences=int(entry.get("inference_count", 0)),
        executions=int(entry.get("execution_count", 0)),
        durations={key: _pair(stats.get(key, {})) for key in _DURATIONS},
        batches={int(b["batch_size"]): _pair(b.get("compute_infer", {}))[0] for b in entry.get("batch_stats", [])},
    )


def _pair(duration: Mapping[str, Any]) -> tuple[int, int]:
    return int(duration.get("count", 0)), int(duration.get("ns", 0))


def _pair_minus(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return a[0] - b[0], a[1] - b[1]


def _pair_plus(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return a[0] + b[0], a[1] + b[1]


def _nonzero(batches: Mapping[int, int]) -> dict[int, int]:
    return {size: n for size, n in batches.items() if n}
