from sink_fakes import make_records

from orchestrator.sinks.base import BatchLimits
from orchestrator.sinks.batching import cut_batches
from orchestrator.sinks.record import SinkRecord


def size(record: SinkRecord) -> int:
    return len(record.payload)


def test_batches_respect_the_record_limit_and_keep_order() -> None:
    records = make_records(12)
    batches = list(cut_batches(records, BatchLimits(max_records=5, max_bytes=10**9), size))
    assert [len(b) for b in batches] == [5, 5, 2]
    assert [r for b in batches for r in b] == records


def test_batches_respect_the_byte_limit() -> None:
    records = [SinkRecord(f"e{i}", "s", i, b"x" * 40) for i in range(5)]
    batches = list(cut_batches(records, BatchLimits(max_records=100, max_bytes=100), size))
    assert [len(b) for b in batches] == [2, 2, 1]


def test_an_oversized_record_travels_alone() -> None:
    records = [SinkRecord("a", "s", 0, b"x"), SinkRecord("big", "s", 1, b"x" * 500), SinkRecord("c", "s", 2, b"x")]
    batches = list(cut_batches(records, BatchLimits(max_records=100, max_bytes=100), size))
    assert [[r.event_id for r in b] for b in batches] == [["a"], ["big"], ["c"]]
