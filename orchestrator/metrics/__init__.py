"""Per-stream pipeline metrics: Prometheus exposition and the bounded rolling stats behind progress lines."""

from typing import Final

ORCHESTRATOR_METRICS_PORT: Final = 9108
"""Where ``pitchside run`` serves /metrics and /healthz by default (0 disables)."""
ORCHESTRATOR_HEALTH_PATH: Final = "/healthz"
"""200 while every stream is being served, 503 otherwise: what the pods' probes ask."""
ORCHESTRATOR_METRICS_HOST: Final = "127.0.0.1"
"""Where it binds by default: loopback. A pod that Prometheus scrapes sets ``[metrics] host = "0.0.0.0"``."""
