"""A real OTLP/HTTP trace receiver on 127.0.0.1: it decodes what pitchside's exporter posts (protobuf) and what
Triton's OpenTelemetry exporter posts (OTLP JSON, ids in hex) into one list of spans."""

import gzip
import http.server
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Self

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

TRACES_PATH = "/v1/traces"


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    trace_id: str
    """32 hex digits."""
    span_id: str
    parent_span_id: str
    """"" for a root span."""
    name: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)
    content_type: str = ""


class OtlpReceiver:
    """``with OtlpReceiver() as receiver:``; export to ``receiver.endpoint`` (the base URL, as
    OTEL_EXPORTER_OTLP_ENDPOINT is), read ``receiver.spans``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: list[ReceivedSpan] = []
        self.rejected: list[str] = []
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="otlp-receiver", daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def spans(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self._spans)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                kind = self.headers.get("Content-Type", "")
                try:
                    spans = _decode(body, kind) if self.path == TRACES_PATH else None
                except ValueError as exc:
                    spans, reason = None, f"{kind}: {exc}"
                else:
                    reason = f"{self.path} {kind}"
                if spans is None:
                    receiver.rejected.append(reason)
                    self.send_response(400)
                    self.end_headers()
                    return
                with receiver._lock:
                    receiver._spans.extend(spans)
                json_reply = kind.startswith("application/json")
                reply = b"{}" if json_reply else ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/json" if json_reply else "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def _decode(body: bytes, content_type: str) -> list[ReceivedSpan]:
    if content_type.startswith("application/x-protobuf"):
        return _from_protobuf(body, content_type)
    if content_type.startswith("application/json"):
        return _from_json(json.loads(body), content_type)
    raise ValueError("not an OTLP content type")


def _from_protobuf(body: bytes, content_type: str) -> list[ReceivedSpan]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    ReceivedSpan(
                        str(resource.get("service.name", "")),
                        span.trace_id.hex(),
                        span.span_id.hex(),
                        span.parent_span_id.hex(),
                        span.name,
                        span.start_time_unix_nano,
                        span.end_time_unix_nano,
                        {a.key: _value(a.value) for a in span.attributes},
                        content_type,
                    )
                )
    return spans


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return None if kind is None else getattr(value, kind)


def _from_json(document: dict[str, Any], content_type: str) -> list[ReceivedSpan]:
    """OTLP/JSON: camelCase fields, trace and span ids as hex strings, 64-bit integers as strings."""
    spans = []
    for resource_spans in document.get("resourceSpans", []):
        resource = _json_attributes(resource_spans.get("resource", {}).get("attributes", []))
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                spans.append(
                    ReceivedSpan(
                        str(resource.get("service.name", "")),
                        span["traceId"].lower(),
                        span["spanId"].lower(),
                        span.get("parentSpanId", "").lower(),
                        span["name"],
                        int(span["startTimeUnixNano"]),
                        int(span["endTimeUnixNano"]),
                        _json_attributes(span.get("attributes", [])),
                        content_type,
                    )
                )
    return spans


def _json_attributes(attributes: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attribute in attributes:
        ((kind, value),) = attribute["value"].items()
        out[attribute["key"]] = int(value) if kind == "intValue" else value
    return out
