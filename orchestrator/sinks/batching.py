"""Cutting records into batches that fit one call to a feed."""

from collections.abc import Callable, Iterator, Sequence

from orchestrator.sinks.base import BatchLimits
from orchestrator.sinks.record import SinkRecord


def cut_batches(
    records: Sequence[SinkRecord], limits: BatchLimits, size: Callable[[SinkRecord], int]
) -> Iterator[list[SinkRecord]]:
    """Consecutive batches of ``records``, in order, each within ``limits``.

    A record larger than ``limits.max_bytes`` forms a batch of its own, so the sink can reject it without holding
    back the records around it.
    """
    batch: list[SinkRecord] = []
    batch_bytes = 0
    for record in records:
        record_bytes = size(record)
        if batch and (len(batch) >= limits.max_records or batch_bytes + record_bytes > limits.max_bytes):
            yield batch
            batch, batch_bytes = [], 0
        batch.append(record)
        batch_bytes += record_bytes
    if batch:
        yield batch
