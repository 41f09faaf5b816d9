"""The ``[tracing]`` settings of ``pitchside run``: off unless asked for."""

from dataclasses import dataclass
from typing import Final

DEFAULT_OTLP_ENDPOINT: Final = "http://localhost:4318"
"""The OTLP/HTTP port of a collector on this machine (the OpenTelemetry default)."""
OTLP_TRACES_PATH: Final = "/v1/traces"
"""Appended to a base endpoint, as ``OTEL_EXPORTER_OTLP_ENDPOINT`` is specified to be used."""
DEFAULT_SERVICE_NAME: Final = "pitchside"
DEFAULT_SAMPLE_RATIO: Final = 1.0
"""Every frame once tracing is turned on (a short investigation); set lower for a long-running deployment."""
OTLP_ENDPOINT_ENV: Final = "OTEL_EXPORTER_OTLP_ENDPOINT"


class TracingConfigError(ValueError):
    """A ``[tracing]`` setting that cannot work; the message names it."""


@dataclass(frozen=True)
class TracingSettings:
    enabled: bool = False
    otlp_endpoint: str | None = None
    """Base URL of an OTLP/HTTP receiver (a collector); spans go to ``{otlp_endpoint}/v1/traces``. None: not
    configured (``pitchside run`` then takes OTEL_EXPORTER_OTLP_ENDPOINT, else DEFAULT_OTLP_ENDPOINT)."""
    service_name: str = DEFAULT_SERVICE_NAME
    sample_ratio: float = DEFAULT_SAMPLE_RATIO
    """Fraction of frames traced, chosen by trace id (0 to 1)."""

    def validated(self) -> "TracingSettings":
        if not 0.0 <= self.sample_ratio <= 1.0:
            raise TracingConfigError(f"[tracing] sample_ratio must be within 0..1, got {self.sample_ratio}")
        if not self.endpoint.startswith(("http://", "https://")):
            raise TracingConfigError(f"[tracing] otlp_endpoint must be an http(s) URL, got {self.otlp_endpoint!r}")
        if not self.service_name:
            raise TracingConfigError("[tracing] service_name must not be empty")
        return self

    @property
    def endpoint(self) -> str:
        return self.otlp_endpoint or DEFAULT_OTLP_ENDPOINT

    @property
    def traces_url(self) -> str:
        """Where spans are posted: the base endpoint plus ``/v1/traces`` (a URL that has it is kept)."""
        base = self.endpoint.rstrip("/")
        return base if base.endswith(OTLP_TRACES_PATH) else base + OTLP_TRACES_PATH
