"""One trace per frame: a ``frame`` span whose children are decode, queue, infer, track and deliver, in order.

- decode: reading and decoding the frame (its measured duration, ending when the frame entered the buffer);
- queue: from the buffer until the frame is sent (the frame buffer, then the in-flight window);
- infer: the Triton round trip, retries included; its W3C trace context travels in the gRPC request's
  metadata, so Triton's own spans (request, model, compute) become its children;
- track: the tracker's update for the frame's detections (frames that fail have no track span);
- deliver: building the event and handing it to the sink fan-out. It ends at that hand-off, not when a feed
  acknowledges it: delivery to each feed is batched, journaled and retried later, and the sink metrics cover it.

A live frame Triton drops as stale ends after its infer span, with outcome ``stale``.
"""

import contextlib
from collections.abc import Iterator, Mapping
from typing import Final

from opentelemetry.context import Context
from opentelemetry.trace import INVALID_SPAN, NoOpTracer, Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace import set_span_in_context as _in_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from orchestrator.sources.frame import Frame
from orchestrator.tracing.clock import WallClock

ROOT_SPAN: Final = "frame"
_PROPAGATOR: Final = TraceContextTextMapPropagator()


class FrameTrace:
    """The spans of one frame; every method is cheap and never raises on a non-recording (unsampled) span."""

    def __init__(self, tracer: Tracer, clock: WallClock, root: Span) -> None:
        self._tracer = tracer
        self._clock = clock
        self._root = root
        self._context: Context = _in_context(root)
        self._open: dict[str, Span] = {}

    @classmethod
    def begin(cls, tracer: Tracer, clock: WallClock, frame: Frame, run_id: str) -> "FrameTrace":
        """Root, decode (already over) and queue (open) spans of a frame just taken from the buffer."""
        ready = clock.ns(frame.ready_mono)
        decoded_from = ready - round(frame.decode_s * 1e9)
        attributes: dict[str, AttributeValue] = {
            "pitchside.stream_id": frame.stream_id,
            "pitchside.frame_seq": frame.seq,
            "pitchside.run_id": run_id,
        }
        root = tracer.start_span(ROOT_SPAN, kind=SpanKind.INTERNAL, attributes=attributes, start_time=decoded_from)
        trace = cls(tracer, clock, root)
        trace._start("decode", decoded_from).end(end_time=ready)
        trace._open["queue"] = trace._start("queue", ready)
        return trace

    def infer_started(self) -> None:
        at = self._clock.now_ns()
        self._end("queue", at)
        self._open["infer"] = self._start("infer", at, SpanKind.CLIENT)

    def headers(self) -> dict[str, str]:
        """``traceparent`` of the infer span for the request's gRPC metadata; empty for a frame that is not
        sampled, because Triton traces every request that carries a context, whatever its sampled flag."""
        span = self._open.get("infer", INVALID_SPAN)
        if not span.get_span_context().trace_flags.sampled:
            return {}
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier, context=_in_context(span))
        return carrier

    def retried(self, error: str) -> None:
        self._open.get("infer", INVALID_SPAN).add_event("retry", {"error": error})

    def infer_ended(self, attributes: Mapping[str, str], error: str | None = None) -> None:
        """End the infer span with what the pipeline knows of the outcome; ``error`` marks it failed."""
        span = self._open.get("infer", INVALID_SPAN)
        for key, value in attributes.items():
            span.set_attribute(key, value)
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, error))
        self._end("infer", self._clock.now_ns())

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """A span around the block (track, deliver)."""
        span = self._start(name, self._clock.now_ns())
        try:
            yield
        finally:
            span.end(end_time=self._clock.now_ns())

    def finish(self, outcome: str, error: str | None = None) -> None:
        """End the frame's trace (and any span a failure left open)."""
        at = self._clock.now_ns()
        for name in list(self._open):
            self._end(name, at)
        self._root.set_attribute("pitchside.outcome", outcome)
        if error is not None:
            self._root.set_status(Status(StatusCode.ERROR, error))
        self._root.end(end_time=at)

    def _start(self, name: str, at_ns: int, kind: SpanKind = SpanKind.INTERNAL) -> Span:
        return self._tracer.start_span(name, context=self._context, kind=kind, start_time=at_ns)

    def _end(self, name: str, at_ns: int) -> None:
        span = self._open.pop(name, None)
        if span is not None:
            span.end(end_time=at_ns)


class FrameTracer:
    """Starts a FrameTrace per frame on one OpenTelemetry tracer (a no-op one when tracing is off)."""

    def __init__(self, tracer: Tracer, clock: WallClock | None = None) -> None:
        self._tracer = tracer
        self._clock = clock or WallClock()

    def begin(self, frame: Frame, run_id: str) -> FrameTrace:
        return FrameTrace.begin(self._tracer, self._clock, frame, run_id)


UNTRACED: Final = FrameTrace(NoOpTracer(), WallClock(), INVALID_SPAN)
"""What items without a frame trace (status changes, undecodable frames) finish through."""
NO_TRACING: Final = FrameTracer(NoOpTracer())
