"""Per-sink delivery metrics: Prometheus series labelled by sink, plus a plain snapshot for summaries."""

import weakref
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge

_BY_REGISTRY: "weakref.WeakKeyDictionary[CollectorRegistry, SinkMetrics]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class SinkStats:
    """One sink's numbers since its channel started (what the CLI prints at the end of a run)."""

    sink: str
    delivered: int
    retried: int
    journaled: int
    dead_lettered: int
    dropped: int
    buffered: int
    journal_segments: int
    lag_s: float | None


class WatchedChannel(Protocol):
    @property
    def name(self) -> str: ...
    def stats(self) -> SinkStats: ...


class SinkMetrics:
    """The Prometheus series every sink channel reports to; one instance per registry.

    ``retried`` counts record-attempts that failed and were retried; ``journaled`` counts records written to the
    journal (spilled or kept at shutdown); ``dropped`` counts records that could neither be buffered nor journaled
    (the journal's disk failed): it should stay 0. ``lag_seconds`` is the age of the newest event at the moment it
    was delivered. ``journal_segments`` and ``buffered_events`` are read from the channel at scrape time.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["sink"]
        self.delivered = Counter("pitchside_sink_delivered", "Events delivered to the feed", labels, registry=registry)
        self.retried = Counter(
            "pitchside_sink_retried", "Event deliveries that failed and were retried", labels, registry=registry
        )
        self.journaled = Counter(
            "pitchside_sink_journaled", "Events spilled to the on-disk journal", labels, registry=registry
        )
        self.dead_lettered = Counter(
            "pitchside_sink_dead_lettered", "Events the feed can never accept", labels, registry=registry
        )
        self.dropped = Counter(
            "pitchside_sink_dropped",
            "Events lost because the journal could not be written",
            labels,
            registry=registry,
        )
        self.lag = Gauge(
            "pitchside_sink_lag_seconds",
            "Age of the newest delivered event when it was delivered",
            labels,
            registry=registry,
        )
        self.journal_segments = Gauge(
            "pitchside_sink_journal_segments",
            "Journal segments waiting to be replayed (each up to segment_records events); 0 when caught up",
            labels,
            registry=registry,
        )
        self.buffered = Gauge(
            "pitchside_sink_buffered_events", "Events waiting in the in-memory buffer", labels, registry=registry
        )

    def watch(self, channel: "WatchedChannel") -> None:
        """Read the channel's journal depth and buffer whenever Prometheus scrapes (nothing per event)."""
        self.journal_segments.labels(channel.name).set_function(lambda: channel.stats().journal_segments)
        self.buffered.labels(channel.name).set_function(lambda: channel.stats().buffered)

    @classmethod
    def on(cls, registry: CollectorRegistry | None = None) -> "SinkMetrics":
        """The metrics registered on ``registry`` (default: the global one), registering them once."""
        target = REGISTRY if registry is None else registry
        metrics = _BY_REGISTRY.get(target)
        if metrics is None:
            metrics = _BY_REGISTRY[target] = cls(target)
        return metrics
