"""In-memory stand-ins for unit tests of the delivery machinery (integration tests use a real moto server)."""

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry

from orchestrator.sinks.base import BatchLimits, DeliveryOutcome, Rejection, Sink
from orchestrator.sinks.dead_letter import DeadLetterFile
from orchestrator.sinks.delivery import DeliveryChannel
from orchestrator.sinks.errors import BatchRejectedError, SinkUnavailableError
from orchestrator.sinks.journal import Journal
from orchestrator.sinks.metrics import SinkMetrics
from orchestrator.sinks.record import SinkRecord
from orchestrator.sinks.settings import DeliverySettings, Durability, RetryPolicy

FAST_RETRY = RetryPolicy(base_s=0.001, max_s=0.005)


def make_records(count: int, streams: Sequence[str] = ("cam-a", "cam-b"), start: int = 0) -> list[SinkRecord]:
    """``count`` events spread round-robin over ``streams``; frame_seq increases per stream."""
    records = []
    for i in range(start, start + count):
        stream = streams[i % len(streams)]
        event_id = f"{stream}-{i:06d}"
        payload = json.dumps({"event_id": event_id, "stream_id": stream, "frame_seq": i}).encode()
        records.append(SinkRecord(event_id, stream, i, payload, emitted_at=1_700_000_000.0 + i))
    return records


class ScriptedSink:
    """A feed whose answers the test scripts.

    ``down_calls``: the next N calls raise SinkUnavailableError. ``fail_ids``: those event ids fail (retry) once
    each. ``gate``: while cleared, ``deliver`` waits (a hung feed). ``poison``: a call containing it is rejected as
    a whole. ``reject``: per-record permanent rejection with a reason.
    """

    def __init__(self, name: str = "fake://feed", limits: BatchLimits | None = None) -> None:
        self._name = name
        self._limits = limits or BatchLimits(max_records=5, max_bytes=1_000_000)
        self.received: list[SinkRecord] = []
        self.calls: list[list[str]] = []
        self.down_calls = 0
        self.fail_ids: set[str] = set()
        self.gate = asyncio.Event()
        self.gate.set()
        self.poison: str | None = None
        self.reject: Callable[[SinkRecord], str | None] = lambda record: None
        self.crash_calls = 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def limits(self) -> BatchLimits:
        return self._limits

    def record_size(self, record: SinkRecord) -> int:
        return len(record.payload)

    async def deliver(self, batch: Sequence[SinkRecord]) -> DeliveryOutcome:
        await self.gate.wait()
        self.calls.append([r.event_id for r in batch])
        if self.crash_calls:
            self.crash_calls -= 1
            raise RuntimeError("bug in a sink")
        if self.down_calls:
            self.down_calls -= 1
            raise SinkUnavailableError("feed unreachable", throttled=True)
        if self.poison is not None and any(r.event_id == self.poison for r in batch):
            raise BatchRejectedError("ValidationException: something in this call is invalid")
        rejected = tuple(Rejection(r, reason) for r in batch if (reason := self.reject(r)))
        refused = {id(r.record) for r in rejected}
        retry = tuple(r for r in batch if r.event_id in self.fail_ids and id(r) not in refused)
        self.fail_ids -= {r.event_id for r in retry}
        failed = refused | {id(r) for r in retry}
        self.received.extend(r for r in batch if id(r) not in failed)
        return DeliveryOutcome(retry=retry, rejected=rejected, retry_reason="partial failure")

    @asynccontextmanager
    async def opened(self) -> AsyncIterator[Sink]:
        yield self


def settings_for(tmp_path: Path, **overrides: object) -> DeliverySettings:
    values: dict[str, object] = {
        "buffer_records": 10,
        "journal_dir": tmp_path / "journal",
        "dead_letter_path": tmp_path / "dead-letter.jsonl",
        "flush_timeout_s": 2.0,
        "segment_records": 4,
        "retry": FAST_RETRY,
    }
    values.update(overrides)
    return DeliverySettings(**values)  # type: ignore[arg-type]


def open_channel(
    sink: ScriptedSink, settings: DeliverySettings, registry: CollectorRegistry | None = None
) -> DeliveryChannel:
    journal = Journal.open(
        settings.journal_dir / "fake",
        segment_records=settings.segment_records,
        write_through=settings.durability is Durability.WRITE_AHEAD,
    )
    return DeliveryChannel(
        sink,
        journal,
        DeadLetterFile(settings.dead_letter_path),
        SinkMetrics.on(registry or CollectorRegistry()),
        settings,
    )


async def wait_until(predicate: Callable[[], bool], *, attempts: int = 2000) -> None:
    """Yield to the loop until ``predicate`` holds; bounded so a broken test fails instead of hanging."""
    for _ in range(attempts):
        if predicate():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition not reached")


def ids(records: Sequence[SinkRecord]) -> list[str]:
    return [r.event_id for r in records]
