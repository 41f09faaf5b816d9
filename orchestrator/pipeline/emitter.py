"""Where events go once built: sinks (as SinkRecords), the annotated video, metrics and rolling stats."""

import json
from collections.abc import Mapping
from typing import Protocol

from orchestrator.events.model import DetectionEvent, Event, FrameErrorEvent, StatusEvent, StreamState, to_json_dict
from orchestrator.metrics.pipeline_metrics import PipelineMetrics
from orchestrator.metrics.rolling import StreamStats
from orchestrator.sinks.record import SinkRecord
from orchestrator.sources.frame import Frame
from orchestrator.sources.frame_buffer import DropReason


class RecordSink(Protocol):
    def submit(self, record: SinkRecord) -> None:
        """Take one record without blocking (see SinkFanout)."""


class FrameAnnotator(Protocol):
    def submit(self, event: DetectionEvent | FrameErrorEvent, frame: Frame | None) -> None:
        """Take one frame's event, with its picture when there is one, without blocking."""


class EventEmitter:
    def __init__(
        self,
        sinks: RecordSink,
        metrics: PipelineMetrics,
        stats: dict[str, StreamStats],
        annotators: Mapping[str, FrameAnnotator] | None = None,
    ) -> None:
        """``annotators``: the annotated video of each stream that has one, by stream id."""
        self._sinks = sinks
        self._metrics = metrics
        self._stats = stats
        self._annotators = annotators or {}

    def emit(self, event: Event, frame: Frame | None) -> None:
        document = to_json_dict(event)
        payload = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        stream_id = str(document["stream_id"])
        self._sinks.submit(
            SinkRecord(
                str(document["event_id"]), stream_id, int(document["frame_seq"]), payload, float(document["emitted_at"])
            )
        )
        self._metrics.events.labels(stream_id, document["type"]).inc()
        self._account(stream_id, event)
        annotator = self._annotators.get(stream_id)
        if annotator is not None and isinstance(event, DetectionEvent | FrameErrorEvent):
            annotator.submit(event, frame)  # a frame_error too: the video keeps one frame per source frame

    def dropped(self, frame: Frame, reason: DropReason) -> None:
        self._metrics.frames_dropped.labels(frame.stream_id, str(reason)).inc()
        stats = self._stats[frame.stream_id]
        stats.dropped += 1
        stats.dropped_by_reason[str(reason)] = stats.dropped_by_reason.get(str(reason), 0) + 1

    def retried(self, stream_id: str) -> None:
        self._metrics.inference_retries.labels(stream_id).inc()
        self._stats[stream_id].retries += 1

    def _account(self, stream_id: str, event: Event) -> None:
        stats = self._stats[stream_id]
        if isinstance(event, DetectionEvent):
            latency = event.latency
            stats.record_event(latency.glass_to_event_ms, latency.inference_ms)
            for stage, ms in (
                ("decode", latency.decode_ms),
                ("queue", latency.queue_ms),
                ("inference", latency.inference_ms),
                ("glass_to_event", latency.glass_to_event_ms),
            ):
                self._metrics.latency.labels(stream_id, stage).observe(ms / 1e3)
        elif isinstance(event, FrameErrorEvent):
            stats.frame_errors += 1
            stats.events += 1
        elif isinstance(event, StatusEvent):
            stats.state = str(event.state)
            stats.frames_read = event.frame_seq
            self._metrics.up.labels(stream_id).set(1 if event.state is StreamState.STARTED else 0)
