"""Triton's own tracing, joined to the callers' traces: OpenTelemetry mode with W3C trace-context propagation."""

from dataclasses import dataclass
from typing import Final

DEFAULT_TRITON_SERVICE_NAME: Final = "triton"


@dataclass(frozen=True)
class TritonTracing:
    """``rate=0`` samples nothing by itself: Triton then traces exactly the requests that carry a
    ``traceparent`` (it traces every such request, whatever its sampled flag), so it follows the callers'
    sampling and exports nothing while they trace nothing. Triton posts OTLP/HTTP JSON to ``traces_url``,
    batched (every 5 s by default) and flushed at shutdown."""

    traces_url: str
    """A full OTLP/HTTP traces URL, ``http://collector:4318/v1/traces``."""
    service_name: str = DEFAULT_TRITON_SERVICE_NAME

    def args(self) -> list[str]:
        """tritonserver's flags (Triton 2.51 / NGC 24.10: ``--trace-config``, OpenTelemetry mode)."""
        return [
            "--trace-config=mode=opentelemetry",
            "--trace-config=rate=0",
            "--trace-config=count=-1",
            "--trace-config=level=TIMESTAMPS",
            f"--trace-config=opentelemetry,url={self.traces_url}",
            f"--trace-config=opentelemetry,resource=service.name={self.service_name}",
        ]
