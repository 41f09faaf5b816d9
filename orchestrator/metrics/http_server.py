"""A tiny HTTP server for /metrics (Prometheus) and /healthz, on its own daemon thread."""

import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, CollectorRegistry, make_wsgi_app

from orchestrator.metrics import ORCHESTRATOR_HEALTH_PATH, ORCHESTRATOR_METRICS_HOST


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # scrapes every few seconds: no access log
        pass


class MetricsServer:
    """``start()`` binds and serves; ``stop()`` shuts down and joins. ``healthy`` decides /healthz.

    Binds ``host`` (loopback unless told otherwise: the metrics name every camera and sink).
    """

    def __init__(
        self,
        port: int,
        healthy: Callable[[], bool],
        registry: CollectorRegistry = REGISTRY,
        host: str = ORCHESTRATOR_METRICS_HOST,
    ) -> None:
        self._metrics_app = make_wsgi_app(registry)
        self._healthy = healthy
        self._server: WSGIServer = make_server(host, port, self._app, handler_class=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == ORCHESTRATOR_HEALTH_PATH:
            ok = self._healthy()
            start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"ok\n" if ok else b"unhealthy\n"]
        result: Iterable[bytes] = self._metrics_app(environ, start_response)
        return result
