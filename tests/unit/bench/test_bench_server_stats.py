from typing import Any

from orchestrator.bench.server_stats import ModelCounters, breakdown, diff, parse_statistics


def _entry(name: str, count: int, batches: dict[int, int], ns: int) -> dict[str, Any]:
    """A model_stats entry as Triton's get_inference_statistics(as_json=True) returns it (numbers as strings)."""
    inferences = sum(size * n for size, n in batches.items())
    duration = {"count": str(count), "ns": str(ns)}
    return {
        "name": name, "version": "1", "inference_count": str(inferences),
        "execution_count": str(sum(batches.values())),
        "inference_stats": {"success": duration, "fail": {}, "queue": {"count": str(count), "ns": str(ns // 4)},
                            "compute_input": duration, "compute_infer": duration, "compute_output": duration},
        "batch_stats": [{"batch_size": str(size), "compute_infer": {"count": str(n), "ns": "1"}}
                        for size, n in batches.items()],
    }  # fmt: skip


def test_parse_reads_counts_and_batches() -> None:
    payload = {"model_stats": [_entry("detector", 19, {1: 2, 2: 2, 5: 1, 8: 1}, 19_000_000)]}
    counters = parse_statistics(payload, ("detector", "absent"))
    detector = counters["detector"]
    assert (detector.inferences, detector.executions, detector.count("success")) == (19, 6, 19)
    assert detector.batches == {1: 2, 2: 2, 5: 1, 8: 1}
    assert counters["absent"] == ModelCounters()


def test_versions_of_one_model_are_summed() -> None:
    payload = {"model_stats": [_entry("m", 2, {1: 2}, 10), {**_entry("m", 3, {1: 3}, 20), "version": "2"}]}
    assert parse_statistics(payload, ("m",))["m"].count("success") == 5


def test_diff_and_breakdown_describe_only_the_interval() -> None:
    before = parse_statistics({"model_stats": [_entry("detector", 9, {1: 1, 8: 1}, 9_000_000)]}, ("detector",))
    after = parse_statistics({"model_stats": [_entry("detector", 19, {1: 3, 8: 1, 4: 2}, 29_000_000)]}, ("detector",))
    view = breakdown(diff(after, before)["detector"])
    assert (view["requests"], view["inferences"], view["executions"]) == (10, 10, 4)
    assert view["batch_histogram"] == {"1": 2, "4": 2}
    assert sum(int(size) * n for size, n in view["batch_histogram"].items()) == view["inferences"]
    assert view["avg_batch_size"] == 2.5
    assert view["request_ms"] == 2.0 and view["queue_ms"] == 0.5


def test_an_idle_interval_has_no_means() -> None:
    view = breakdown(ModelCounters())
    assert view["avg_batch_size"] is None and view["request_ms"] is None and view["requests"] == 0
