"""Delivery settings shared by every sink: buffer, journal, dead letters, retries. Built once at the edge."""

import random
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from orchestrator.sinks.errors import SinkConfigError

# 10k events of ~300 B is ~3 MB per sink: minutes of a busy camera rig before anything touches the disk.
DEFAULT_BUFFER_RECORDS = 10_000
DEFAULT_JOURNAL_DIR = Path(".pitchside/journal")
DEFAULT_DEAD_LETTER_PATH = Path(".pitchside/dead-letter.jsonl")
# How long leaving the fan-out waits for the feeds before journaling what is still in memory.
DEFAULT_FLUSH_TIMEOUT_S = 10.0
# A segment is read back whole during replay, so it also bounds the replay's memory.
DEFAULT_SEGMENT_RECORDS = 10_000
# Appends are buffered; this is the most a machine crash (not a process crash) can take from the journal.
DEFAULT_JOURNAL_SYNC_INTERVAL_S = 1.0
DEFAULT_BACKOFF_BASE_S = 0.05
# Kinesis throttling is per second: waiting longer than a few seconds only adds lag.
DEFAULT_BACKOFF_MAX_S = 5.0


class Durability(StrEnum):
    """When a submitted event counts as accepted."""

    BUFFERED = "buffered"
    """In the sink's memory buffer; the journal takes only what overflows. Fastest; a ``kill -9`` loses what is
    in the buffer (up to ``buffer_records`` per sink)."""
    WRITE_AHEAD = "write_ahead"
    """Written to the sink's journal file (handed to the kernel, not just to a userspace buffer) before ``submit``
    returns, and delivered from there: a ``kill -9`` loses nothing, the next run replays it. A machine crash can
    still take the last ``journal_sync_interval_s`` (the fsync cadence)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter: attempt ``n`` waits ``uniform(0, min(max_s, base_s * 2**n))``."""

    base_s: float = DEFAULT_BACKOFF_BASE_S
    max_s: float = DEFAULT_BACKOFF_MAX_S

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.max_s < self.base_s:
            raise SinkConfigError(f"invalid backoff: base_s={self.base_s}, max_s={self.max_s}")

    def ceiling(self, attempt: int) -> float:
        """The longest wait before retry number ``attempt`` (0-based)."""
        return min(self.max_s, self.base_s * 2.0 ** min(attempt, 32))

    def delay(self, attempt: int, rng: random.Random) -> float:
        """A jittered wait before retry number ``attempt``; jitter spreads retries of many producers apart."""
        return rng.uniform(0.0, self.ceiling(attempt))


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """How every sink buffers, journals, retries and dead-letters.

    ``buffer_records`` bounds each sink's in-memory buffer; beyond it events spill to the sink's journal under
    ``journal_dir`` (one subdirectory per sink). ``dead_letter_path`` is one JSON Lines file shared by all sinks.
    ``flush_timeout_s`` bounds shutdown: what is not delivered by then is journaled for the next run.
    ``durability`` says when an event counts as accepted (see :class:`Durability`).
    """

    buffer_records: int = DEFAULT_BUFFER_RECORDS
    journal_dir: Path = DEFAULT_JOURNAL_DIR
    dead_letter_path: Path = DEFAULT_DEAD_LETTER_PATH
    flush_timeout_s: float = DEFAULT_FLUSH_TIMEOUT_S
    segment_records: int = DEFAULT_SEGMENT_RECORDS
    journal_sync_interval_s: float = DEFAULT_JOURNAL_SYNC_INTERVAL_S
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    durability: Durability = Durability.BUFFERED

    def __post_init__(self) -> None:
        if self.buffer_records < 1:
            raise SinkConfigError(f"buffer_records must be at least 1, got {self.buffer_records}")
        if self.segment_records < 1:
            raise SinkConfigError(f"segment_records must be at least 1, got {self.segment_records}")
        if self.flush_timeout_s < 0 or self.journal_sync_interval_s <= 0:
            raise SinkConfigError("flush_timeout_s must be >= 0 and journal_sync_interval_s > 0")
