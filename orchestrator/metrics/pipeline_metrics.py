"""Prometheus metrics of the orchestrator, labelled by stream."""

from typing import Final, Protocol

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from orchestrator.sources.frame_buffer import DropReason

LATENCY_BUCKETS_S: Final = (0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)


class PipelineMetrics:
    """All series live on ``registry`` (a fresh CollectorRegistry in tests, the global one in production)."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        """Counters and histograms are fed by the event emitter; gauges are read from the streams at scrape
        time (``watch``), so they cost nothing per frame."""
        self.frames_read = Gauge(
            "pitchside_frames_read", "Frames read from the source since the run started", ["stream"], registry=registry
        )
        self.frames_dropped = Counter(
            "pitchside_frames_dropped_total",
            "Frames dropped before inference by the live buffer policy",
            ["stream", "reason"],
            registry=registry,
        )
        self.events = Counter(
            "pitchside_events_total", "Events emitted, by type", ["stream", "type"], registry=registry
        )
        self.inference_retries = Counter(
            "pitchside_inference_retries_total",
            "Inference calls retried after Triton was unavailable",
            ["stream"],
            registry=registry,
        )
        self.queue_depth = Gauge(
            "pitchside_queue_depth", "Frames waiting in the stream buffer", ["stream"], registry=registry
        )
        self.in_flight = Gauge(
            "pitchside_in_flight", "Frames sent to Triton, not yet answered", ["stream"], registry=registry
        )
        self.latency = Histogram(
            "pitchside_stage_latency_seconds",
            "Per-frame latency by stage",
            ["stream", "stage"],
            buckets=LATENCY_BUCKETS_S,
            registry=registry,
        )
        self.up = Gauge("pitchside_stream_up", "1 while the stream's source is open", ["stream"], registry=registry)

    def watch(self, stream: "WatchedStream") -> None:
        """Read a stream's gauges from it whenever Prometheus scrapes, and start its counters at 0 so that
        ``rate()`` and ``increase()`` in alerts see the first drop or retry rather than a series appearing."""
        for reason in DropReason:
            self.frames_dropped.labels(stream.stream_id, str(reason))
        self.inference_retries.labels(stream.stream_id)
        self.frames_read.labels(stream.stream_id).set_function(lambda: stream.frames_read)
        self.queue_depth.labels(stream.stream_id).set_function(lambda: stream.queue_depth)
        self.in_flight.labels(stream.stream_id).set_function(lambda: stream.in_flight)


class WatchedStream(Protocol):
    @property
    def stream_id(self) -> str: ...
    @property
    def frames_read(self) -> int: ...
    @property
    def queue_depth(self) -> int: ...
    @property
    def in_flight(self) -> int: ...
