"""The OTLP/HTTP exporter behind ``[tracing]``: built once per run, flushed when the run ends."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from orchestrator.tracing.frame_trace import NO_TRACING, FrameTracer
from orchestrator.tracing.settings import TracingSettings

INSTRUMENTATION_NAME: Final = "pitchside"
EXPORT_TIMEOUT_S: Final = 5.0
"""Per export call: a collector that is down costs the exporter's thread this long, never the event loop."""


def tracer_provider(settings: TracingSettings, exporter: SpanExporter | None = None) -> TracerProvider:
    """Spans sampled by trace id at ``sample_ratio``, batched (a bounded queue that drops when full) and posted
    by a background thread to ``settings.traces_url`` (or to ``exporter``)."""
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: settings.service_name}),
        sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
    )
    exporter = exporter or OTLPSpanExporter(endpoint=settings.traces_url, timeout=EXPORT_TIMEOUT_S)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


@asynccontextmanager
async def frame_tracing(settings: TracingSettings) -> AsyncIterator[FrameTracer]:
    """A FrameTracer for one run; with tracing off, a no-op one. On exit the spans still queued are exported."""
    if not settings.enabled:
        yield NO_TRACING
        return
    provider = tracer_provider(settings)
    try:
        yield FrameTracer(provider.get_tracer(INSTRUMENTATION_NAME))
    finally:
        await asyncio.to_thread(provider.shutdown)
