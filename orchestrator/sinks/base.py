"""What every sink implements: deliver one batch as well as the feed allows, and say what happened."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from orchestrator.sinks.record import SinkRecord


@dataclass(frozen=True, slots=True)
class BatchLimits:
    """How the delivery channel cuts batches for one sink.

    A batch holds at most ``max_records`` records and ``max_bytes`` bytes (as measured by the sink's
    ``record_size``), except that a single record larger than ``max_bytes`` travels alone so that the sink can
    reject it. ``linger_s`` is how long the oldest buffered record may wait for a fuller batch (0: send as soon as
    the sink is free; S3 uses it as the object's time rotation).
    """

    max_records: int
    max_bytes: int
    linger_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record the feed can never accept, and why."""

    record: SinkRecord
    reason: str


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """The result of one :meth:`Sink.deliver` call.

    Every record of the batch that is neither in ``retry`` nor in ``rejected`` was delivered. ``retry`` keeps the
    batch order. ``retry_reason`` and ``throttled`` describe why records must be retried (for logs and backoff).
    """

    retry: tuple[SinkRecord, ...] = ()
    rejected: tuple[Rejection, ...] = ()
    retry_reason: str = ""
    throttled: bool = False


class Sink(Protocol):
    """A downstream feed.

    ``deliver`` sends one batch (cut by the channel within ``limits``), in order, and returns a
    :class:`DeliveryOutcome`. It raises :class:`~orchestrator.sinks.errors.SinkUnavailableError` when nothing was
    delivered but a later try may work, and :class:`~orchestrator.sinks.errors.BatchRejectedError` when the feed
    refused the call as a whole as invalid. It must not retry by itself: the channel owns retries, backoff,
    journaling and dead letters, so that every sink gets the same guarantees and the same metrics.
    """

    @property
    def name(self) -> str:
        """Stable label (metrics, journal directory, dead letters): the sink URI without its query."""
        ...

    @property
    def limits(self) -> BatchLimits: ...

    def record_size(self, record: SinkRecord) -> int:
        """Bytes ``record`` counts against the feed's per-call limit."""
        ...

    async def deliver(self, batch: Sequence[SinkRecord]) -> DeliveryOutcome: ...
