"""One sink's delivery machinery: bounded buffer, batching, retries with backoff, journal spill, dead letters.

Every sink, local or AWS, runs behind a :class:`DeliveryChannel`, so they share one set of guarantees:

* ``submit`` never awaits and never touches the network: a record goes to the bounded in-memory buffer, or, when
  the buffer is full or the journal already holds older records, is appended to the on-disk journal.
* One worker task delivers in submission order: the buffer first (it is always older than the journal), then the
  journal, segment by segment. A failed call is retried, only for the records that failed, with exponential
  backoff and full jitter, until it succeeds: an outage delays events and never drops them.
* A record the feed can never accept goes to the dead-letter file with the reason; the rest flows on.
* ``close`` keeps delivering for at most ``flush_timeout_s``, then writes what is still in memory to the journal,
  ordered before anything spilled after it, for the next run to replay.

Delivery is at-least-once: a call whose answer was lost (connection cut mid-call, process killed mid-segment) is
sent again, with the same ``event_id``. Order per ``stream_id`` holds as long as the feed never accepts a later
record of a call after rejecting an earlier one of the same stream (throttling admits a prefix per shard); when it
does, the retried record lands after it and consumers must order by ``frame_seq``.
"""

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.sinks.base import BatchLimits, DeliveryOutcome, Rejection, Sink
from orchestrator.sinks.batching import cut_batches
from orchestrator.sinks.dead_letter import DeadLetterFile
from orchestrator.sinks.errors import BatchRejectedError, SinkClosedError, SinkUnavailableError
from orchestrator.sinks.journal import Journal
from orchestrator.sinks.metrics import SinkMetrics, SinkStats
from orchestrator.sinks.record import SinkRecord
from orchestrator.sinks.settings import DeliverySettings, Durability

logger = logging.getLogger(__name__)

# Cut a lingering batch once the buffer is half full, so arrivals keep landing in memory, not in the journal.
_HIGH_WATER_FRACTION = 0.5
# Log every failed attempt of a batch at first, then one in this many, so an hour-long outage stays readable.
_LOG_EVERY_ATTEMPTS = 20


@dataclass(slots=True)
class _Counts:
    delivered: int = 0
    retried: int = 0
    journaled: int = 0
    dead_lettered: int = 0
    dropped: int = 0
    lag_s: float | None = None


@dataclass(frozen=True, slots=True)
class _Buffered:
    received_at: float
    record: SinkRecord
    size: int


class DeliveryChannel:
    """Delivers one sink's records; see the module docstring for the contract.

    The channel does not open or close ``sink`` or ``journal``: whoever built them does. Call :meth:`start` from
    the running event loop before :meth:`submit`, and :meth:`close` once, at the end.
    """

    def __init__(
        self,
        sink: Sink,
        journal: Journal,
        dead_letters: DeadLetterFile,
        metrics: SinkMetrics,
        settings: DeliverySettings,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self._sink = sink
        self._journal = journal
        self._dead_letters = dead_letters
        self._settings = settings
        self._rng = rng or random.Random()
        self._buffer: deque[_Buffered] = deque()
        self._buffer_bytes = 0
        self._high_water = max(1, int(settings.buffer_records * _HIGH_WATER_FRACTION))
        # Write-ahead: every record goes through the journal (on disk before submit returns), never memory only.
        self._write_ahead = settings.durability is Durability.WRITE_AHEAD
        # Records a previous run journaled are older than anything submitted now: queue behind them.
        self._spilling = journal.has_pending()
        self._inflight: list[SinkRecord] = []
        self._inflight_from_memory = False
        self._wakeup = asyncio.Event()
        self._accepting = False
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._worker: asyncio.Task[None] | None = None
        self._counts = _Counts()
        label = sink.name
        self._m_delivered = metrics.delivered.labels(label)
        self._m_retried = metrics.retried.labels(label)
        self._m_journaled = metrics.journaled.labels(label)
        self._m_dead_lettered = metrics.dead_lettered.labels(label)
        self._m_dropped = metrics.dropped.labels(label)
        self._m_lag = metrics.lag.labels(label)

    @property
    def name(self) -> str:
        return self._sink.name

    def start(self) -> None:
        """Start the worker and the journal's periodic sync (both owned by this channel)."""
        if self._worker is not None:
            raise RuntimeError(f"sink {self.name} already started")
        self._worker = asyncio.create_task(self._run(), name=f"sink-worker:{self.name}")
        sync = asyncio.create_task(self._sync_journal(), name=f"sink-journal-sync:{self.name}")
        self._tasks.update({self._worker, sync})
        self._accepting = True

    def submit(self, record: SinkRecord) -> None:
        """Queue ``record`` for delivery. Never awaits, never waits on the network.

        Raises :class:`SinkClosedError` if the channel is not running. A record that can neither be buffered nor
        journaled (the journal's disk failed) is logged and counted as dropped.
        """
        if not self._accepting:
            raise SinkClosedError(f"sink {self.name} is not running")
        if self._write_ahead or self._spilling or len(self._buffer) >= self._settings.buffer_records:
            self._spill(record)
        else:
            size = self._sink.record_size(record)
            self._buffer.append(_Buffered(time.monotonic(), record, size))
            self._buffer_bytes += size
        self._wakeup.set()

    async def close(self) -> None:
        """Deliver what is pending for at most ``flush_timeout_s``, then journal the rest and stop."""
        self._accepting = False
        self._closing = True
        self._wakeup.set()
        if self._worker is not None:
            _, late = await asyncio.wait({self._worker}, timeout=self._settings.flush_timeout_s)
            if late:
                logger.warning("sink %s: flush timed out; journaling what is left for the next run", self.name)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task, result in zip(tasks, await asyncio.gather(*tasks, return_exceptions=True), strict=True):
            if isinstance(result, Exception):
                logger.error("sink %s: task %s failed", self.name, task.get_name(), exc_info=result)
        self._tasks.clear()
        leftover = (self._inflight if self._inflight_from_memory else []) + [b.record for b in self._buffer]
        self._buffer.clear()
        self._buffer_bytes = 0
        if leftover:
            await self._journal.put_front(leftover)
            self._count_journaled(len(leftover))
        await self._journal.close()

    def stats(self) -> SinkStats:
        c = self._counts
        return SinkStats(
            sink=self.name,
            delivered=c.delivered,
            retried=c.retried,
            journaled=c.journaled,
            dead_lettered=c.dead_lettered,
            dropped=c.dropped,
            buffered=len(self._buffer),
            journal_segments=self._journal.pending_segments,
            lag_s=c.lag_s,
        )

    def _spill(self, record: SinkRecord) -> None:
        self._spilling = True
        try:
            self._journal.append(record)
        except OSError:
            logger.exception("sink %s: journal write failed; event %s dropped", self.name, record.event_id)
            self._counts.dropped += 1
            self._m_dropped.inc()
            return
        self._count_journaled(1)

    def _count_journaled(self, n: int) -> None:
        self._counts.journaled += n
        self._m_journaled.inc(n)

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                if await self._step():
                    return
                failures = 0
            except Exception:  # the worker must outlive any one failure, or this sink would stop silently
                logger.exception("sink %s: delivery worker step failed; retrying", self.name)
                await asyncio.sleep(self._settings.retry.delay(failures, self._rng))
                failures += 1

    async def _step(self) -> bool:
        """Deliver the oldest pending work; ``True`` once closing and nothing is left."""
        self._wakeup.clear()
        if self._buffer:
            await self._deliver(await self._next_memory_batch(), from_memory=True)
            return False
        if self._write_ahead:
            await self._linger_on_journal()
        segment = await self._journal.take()
        if segment is not None:
            if not self._journal.has_pending():
                self._spilling = False  # caught up: no append slipped in since take() returned
            for batch in cut_batches(segment.records, self._sink.limits, self._sink.record_size):
                await self._deliver(batch, from_memory=False)
            await self._journal.ack(segment)
            return False
        self._spilling = False
        if self._closing:
            return True
        await self._wakeup.wait()
        return False

    async def _linger_on_journal(self) -> None:
        """Write-ahead: let the active segment fill up to a batch the way the memory buffer would (S3's age
        rotation needs this; sinks without linger go on at once)."""
        limits = self._sink.limits
        while not self._closing and (active := self._journal.only_active) is not None:
            count, since = active
            remaining = limits.linger_s - (time.monotonic() - since)
            if count >= min(limits.max_records, self._high_water) or remaining <= 0:
                return
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._wakeup.wait()

    async def _next_memory_batch(self) -> list[SinkRecord]:
        limits = self._sink.limits
        while not self._closing and not self._batch_ready(limits):
            self._wakeup.clear()
            remaining = limits.linger_s - (time.monotonic() - self._buffer[0].received_at)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._wakeup.wait()
        return self._take_from_buffer(limits)

    def _batch_ready(self, limits: BatchLimits) -> bool:
        return (
            len(self._buffer) >= min(limits.max_records, self._high_water)
            or self._buffer_bytes >= limits.max_bytes
            or time.monotonic() - self._buffer[0].received_at >= limits.linger_s
        )

    def _take_from_buffer(self, limits: BatchLimits) -> list[SinkRecord]:
        batch: list[SinkRecord] = []
        batch_bytes = 0
        while self._buffer and len(batch) < limits.max_records:
            head = self._buffer[0]
            if batch and batch_bytes + head.size > limits.max_bytes:
                break
            self._buffer.popleft()
            self._buffer_bytes -= head.size
            batch.append(head.record)
            batch_bytes += head.size
        return batch

    async def _deliver(self, batch: list[SinkRecord], *, from_memory: bool) -> None:
        """Deliver ``batch`` completely: retry what failed, dead-letter what can never be accepted."""
        self._inflight, self._inflight_from_memory = batch, from_memory
        attempt = 0
        while self._inflight:
            outcome = await self._attempt(self._inflight)
            await self._dead_letter(outcome.rejected)
            self._count_delivered(self._inflight, outcome)
            self._inflight = list(outcome.retry)
            if self._inflight:
                self._counts.retried += len(self._inflight)
                self._m_retried.inc(len(self._inflight))
                log = logger.warning if attempt % _LOG_EVERY_ATTEMPTS == 0 else logger.debug
                log(
                    "sink %s: %d event(s) to retry (attempt %d): %s",
                    self.name,
                    len(self._inflight),
                    attempt + 1,
                    outcome.retry_reason,
                )
                await asyncio.sleep(self._settings.retry.delay(attempt, self._rng))
                attempt += 1
        self._inflight_from_memory = False

    async def _attempt(self, batch: Sequence[SinkRecord]) -> DeliveryOutcome:
        try:
            return await self._sink.deliver(batch)
        except SinkUnavailableError as exc:
            return DeliveryOutcome(retry=tuple(batch), retry_reason=str(exc), throttled=exc.throttled)
        except BatchRejectedError as exc:
            if len(batch) == 1:
                return DeliveryOutcome(rejected=(Rejection(batch[0], str(exc)),))
            return await self._bisect(batch)
        except Exception as exc:  # one sink's failure must not spread: log, count as a retry, try again later
            logger.exception("sink %s: unexpected delivery failure", self.name)
            return DeliveryOutcome(retry=tuple(batch), retry_reason=repr(exc))

    async def _bisect(self, batch: Sequence[SinkRecord]) -> DeliveryOutcome:
        """Find the record(s) behind a rejected call by sending each half; the second half waits for the first
        so that a retry in the first half is never overtaken."""
        middle = len(batch) // 2
        first = await self._attempt(batch[:middle])
        if first.retry:
            return DeliveryOutcome(
                first.retry + tuple(batch[middle:]), first.rejected, first.retry_reason, first.throttled
            )
        second = await self._attempt(batch[middle:])
        return DeliveryOutcome(second.retry, first.rejected + second.rejected, second.retry_reason, second.throttled)

    async def _dead_letter(self, rejections: Sequence[Rejection]) -> None:
        if not rejections:
            return
        for rejection in rejections:
            logger.error("sink %s: event %s dead-lettered: %s", self.name, rejection.record.event_id, rejection.reason)
        await self._dead_letters.write(self.name, rejections)
        self._counts.dead_lettered += len(rejections)
        self._m_dead_lettered.inc(len(rejections))

    def _count_delivered(self, sent: Sequence[SinkRecord], outcome: DeliveryOutcome) -> None:
        not_delivered = {id(r) for r in outcome.retry} | {id(r.record) for r in outcome.rejected}
        delivered = [r for r in sent if id(r) not in not_delivered]
        if not delivered:
            return
        self._counts.delivered += len(delivered)
        self._m_delivered.inc(len(delivered))
        lag = max(0.0, time.time() - max(r.emitted_at for r in delivered))
        self._counts.lag_s = lag
        self._m_lag.set(lag)

    async def _sync_journal(self) -> None:
        while True:
            await asyncio.sleep(self._settings.journal_sync_interval_s)
            try:
                await self._journal.sync()
            except OSError:
                logger.exception("sink %s: journal sync failed", self.name)
