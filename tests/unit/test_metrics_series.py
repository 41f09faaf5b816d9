"""Series the dashboard and alerts read exist from the start: journal depth and buffer per sink, and every
stream's drop and retry counters at 0 before the first drop or retry."""

from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from orchestrator.metrics.pipeline_metrics import PipelineMetrics
from orchestrator.sinks.metrics import SinkMetrics, SinkStats
from orchestrator.sources.frame_buffer import DropReason


@dataclass
class Channel:
    name: str
    segments: int
    buffered: int

    def stats(self) -> SinkStats:
        return SinkStats(self.name, 0, 0, 0, 0, 0, self.buffered, self.segments, None)


@dataclass
class Stream:
    stream_id: str
    frames_read: int = 12
    queue_depth: int = 1
    in_flight: int = 1


def test_journal_depth_and_buffer_are_read_from_the_channel_at_scrape_time() -> None:
    registry = CollectorRegistry()
    channel = Channel("kinesis://feed", segments=3, buffered=7)
    SinkMetrics.on(registry).watch(channel)
    assert registry.get_sample_value("pitchside_sink_journal_segments", {"sink": "kinesis://feed"}) == 3
    assert registry.get_sample_value("pitchside_sink_buffered_events", {"sink": "kinesis://feed"}) == 7
    channel.segments = 0
    assert registry.get_sample_value("pitchside_sink_journal_segments", {"sink": "kinesis://feed"}) == 0


def test_a_watched_stream_has_its_drop_and_retry_counters_at_zero() -> None:
    registry = CollectorRegistry()
    PipelineMetrics(registry).watch(Stream("cam-north"))
    drops = {
        reason: registry.get_sample_value("pitchside_frames_dropped_total", {"stream": "cam-north", "reason": reason})
        for reason in DropReason
    }
    assert drops == dict.fromkeys(DropReason, 0.0)
    assert registry.get_sample_value("pitchside_inference_retries_total", {"stream": "cam-north"}) == 0.0
    assert registry.get_sample_value("pitchside_frames_read", {"stream": "cam-north"}) == 12
