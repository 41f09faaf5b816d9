"""A frame's spans as the pipeline drives them, recorded by the SDK's in-memory exporter."""

import time
from itertools import pairwise

import numpy as np
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, Sampler
from opentelemetry.trace import StatusCode

from orchestrator.sources.frame import Frame
from orchestrator.tracing.frame_trace import UNTRACED, FrameTracer

FRAME = Frame("north", 7, np.zeros((4, 6, 3), np.uint8), 0.7, time.time(), 0.02, time.monotonic())
INFERRED = {"pitchside.triton.endpoint": "triton:8001", "pitchside.model": "detector"}
"""What the stream path says of a frame Triton answered."""


def recording(sampler: Sampler = ALWAYS_ON) -> tuple[FrameTracer, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return FrameTracer(provider.get_tracer("test")), exporter


def by_name(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    spans = exporter.get_finished_spans()
    assert len({s.name for s in spans}) == len(spans)
    return {s.name: s for s in spans}


def test_a_delivered_frame_is_one_trace_of_five_contiguous_stages_under_its_frame_span() -> None:
    tracer, exporter = recording()
    trace = tracer.begin(FRAME, "run-1")
    trace.infer_started()
    trace.infer_ended(INFERRED)
    with trace.stage("track"):
        pass
    with trace.stage("deliver"):
        pass
    trace.finish("detections")

    spans = by_name(exporter)
    root = spans.pop("frame")
    stages = sorted(spans.values(), key=lambda s: (s.start_time, s.end_time))
    assert [s.name for s in stages] == ["decode", "queue", "infer", "track", "deliver"]
    assert {s.context.trace_id for s in stages} == {root.context.trace_id}
    assert all(s.parent is not None and s.parent.span_id == root.context.span_id for s in stages)
    assert all(a.end_time <= b.start_time for a, b in pairwise(stages)), "stages do not overlap"  # type: ignore[operator]
    assert stages[0].end_time == stages[1].start_time, "decode ends where the queue starts: the buffer hand-off"
    assert stages[1].end_time == stages[2].start_time, "the queue ends when the request goes out"
    assert stages[0].end_time - stages[0].start_time == 20_000_000, "decode lasts the frame's measured decode_s"
    assert root.start_time == stages[0].start_time
    assert dict(root.attributes or {}) == {
        "pitchside.stream_id": "north",
        "pitchside.frame_seq": 7,
        "pitchside.run_id": "run-1",
        "pitchside.outcome": "detections",
    }
    assert dict(stages[2].attributes or {}) == {
        "pitchside.triton.endpoint": "triton:8001",
        "pitchside.model": "detector",
    }


def test_the_headers_carry_the_infer_spans_context_as_w3c_traceparent() -> None:
    tracer, exporter = recording()
    trace = tracer.begin(FRAME, "run-1")
    assert trace.headers() == {}, "nothing to propagate before the request is sent"
    trace.infer_started()
    headers = trace.headers()
    trace.infer_ended(INFERRED)
    trace.finish("detections")
    infer = by_name(exporter)["infer"]
    flags = int(infer.context.trace_flags)
    assert flags & 0x01, "sampled"
    assert headers == {"traceparent": f"00-{infer.context.trace_id:032x}-{infer.context.span_id:016x}-{flags:02x}"}


def test_a_frame_left_out_by_sampling_sends_no_trace_context_and_records_nothing() -> None:
    """Triton traces every request that carries a context, even one flagged not sampled."""
    tracer, exporter = recording(ALWAYS_OFF)
    trace = tracer.begin(FRAME, "run-1")
    trace.infer_started()
    assert trace.headers() == {}
    trace.infer_ended(INFERRED)
    trace.finish("detections")
    assert exporter.get_finished_spans() == ()


def test_a_failed_frame_marks_infer_and_frame_as_errors_and_retries_are_events() -> None:
    tracer, exporter = recording()
    trace = tracer.begin(FRAME, "run-1")
    trace.infer_started()
    trace.retried("StatusCode.UNAVAILABLE: connection refused")
    trace.infer_ended({}, "unavailable: gave up")
    with trace.stage("deliver"):
        pass
    trace.finish("frame_error", "unavailable: gave up")
    spans = by_name(exporter)
    assert set(spans) == {"frame", "decode", "queue", "infer", "deliver"}, "no tracking for a failed frame"
    assert (spans["infer"].status.status_code, spans["infer"].status.description) == (
        StatusCode.ERROR,
        "unavailable: gave up",
    )
    assert [(e.name, dict(e.attributes or {})) for e in spans["infer"].events] == [
        ("retry", {"error": "StatusCode.UNAVAILABLE: connection refused"})
    ]
    assert spans["frame"].status.status_code is StatusCode.ERROR


def test_finishing_ends_the_spans_a_failure_left_open() -> None:
    tracer, exporter = recording()
    trace = tracer.begin(FRAME, "run-1")
    trace.infer_started()
    trace.finish("frame_error", "internal error")
    spans = by_name(exporter)
    assert set(spans) == {"frame", "decode", "queue", "infer"}
    assert spans["infer"].end_time == spans["frame"].end_time


def test_a_stale_frame_ends_after_infer() -> None:
    tracer, exporter = recording()
    trace = tracer.begin(FRAME, "run-1")
    trace.infer_started()
    trace.infer_ended({"pitchside.outcome": "stale"})
    trace.finish("stale")
    spans = by_name(exporter)
    assert set(spans) == {"frame", "decode", "queue", "infer"}
    assert spans["infer"].attributes == {"pitchside.outcome": "stale"}
    assert spans["frame"].attributes is not None and spans["frame"].attributes["pitchside.outcome"] == "stale"


def test_the_untraced_stand_in_accepts_every_call() -> None:
    UNTRACED.infer_started()
    assert UNTRACED.headers() == {}
    with UNTRACED.stage("deliver"):
        pass
    UNTRACED.finish("frame_error", "undecodable")
