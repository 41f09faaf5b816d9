"""An HTTP hop in front of moto that enforces Kinesis's per-shard write limit, which moto does not.

Kinesis allows each shard 1,000 records and 1 MiB per second of writes; beyond that PutRecords answers HTTP 200
with the records over the limit marked ``ProvisionedThroughputExceededException`` (a partial failure). moto 5.2
accepts any rate and has no failure injection, so the throttling tests send the sink through this proxy: it
forwards every request to moto unchanged, except that for PutRecords it admits, per stream (the tests use
one-shard streams), the records that fit a token bucket refilled at the real limits, forwards only those, and
answers with moto's result for them and the throttling error for the others, in request order.
"""

import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

KINESIS_SHARD_RECORDS_PER_S = 1000
KINESIS_SHARD_BYTES_PER_S = 1024 * 1024
_PUT_RECORDS_TARGET = "Kinesis_20131202.PutRecords"
_HOP_BY_HOP = {"host", "content-length", "connection", "transfer-encoding", "keep-alive"}


class _Bucket:
    def __init__(self, records_per_s: float, bytes_per_s: float) -> None:
        self.rates = (records_per_s, bytes_per_s)
        self.tokens = [records_per_s, bytes_per_s]  # starts full: one second of burst
        self.at = time.monotonic()

    def refill(self) -> None:
        now = time.monotonic()
        for i, rate in enumerate(self.rates):
            self.tokens[i] = min(rate, self.tokens[i] + (now - self.at) * rate)
        self.at = now

    def take(self, size: int) -> bool:
        if self.tokens[0] >= 1 and self.tokens[1] >= size:
            self.tokens[0] -= 1
            self.tokens[1] -= size
            return True
        return False


class ShardLimitProxy:
    """Listens on 127.0.0.1 (free port); counts what it admitted and throttled."""

    def __init__(
        self,
        upstream_url: str,
        *,
        records_per_s: float = KINESIS_SHARD_RECORDS_PER_S,
        bytes_per_s: float = KINESIS_SHARD_BYTES_PER_S,
    ) -> None:
        host_port = upstream_url.removeprefix("http://")
        self.upstream_host, _, port = host_port.partition(":")
        self.upstream_port = int(port)
        self.records_per_s, self.bytes_per_s = records_per_s, bytes_per_s
        self.admitted_records = 0
        self.throttled_records = 0
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("X-Amz-Target") == _PUT_RECORDS_TARGET:
                    status, headers, payload = proxy._put_records(dict(self.headers), body)
                else:
                    status, headers, payload = proxy._forward("POST", self.path, dict(self.headers), body)
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=10)
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
            connection.request(method, path, body=body, headers=forwarded)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def _put_records(self, headers: dict[str, str], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        request = json.loads(body)
        stream = request.get("StreamName") or request.get("StreamARN", "")
        admitted_at: list[int] = []
        with self._lock:
            bucket = self._buckets.setdefault(stream, _Bucket(self.records_per_s, self.bytes_per_s))
            bucket.refill()
            for index, record in enumerate(request["Records"]):
                # Data is base64 on the wire: 4 characters per 3 bytes.
                size = len(record["Data"]) * 3 // 4 + len(record["PartitionKey"])
                if not bucket.take(size):
                    break  # the shard is over its limit for this second: this record and the rest fail
                admitted_at.append(index)
        results: list[dict[str, Any]] = [
            {
                "ErrorCode": "ProvisionedThroughputExceededException",
                "ErrorMessage": f"Rate exceeded for shard shardId-000000000000 in stream {stream} "
                "under account 123456789012.",
            }
            for _ in request["Records"]
        ]
        response_headers = [("Content-Type", "application/x-amz-json-1.1")]
        if admitted_at:
            upstream = dict(request, Records=[request["Records"][i] for i in admitted_at])
            status, response_headers, payload = self._forward("POST", "/", headers, json.dumps(upstream).encode())
            if status != 200:
                return status, response_headers, payload
            for index, result in zip(admitted_at, json.loads(payload)["Records"], strict=True):
                results[index] = result
        failed = sum(1 for r in results if "ErrorCode" in r)
        with self._lock:
            self.admitted_records += len(admitted_at)
            self.throttled_records += len(results) - len(admitted_at)
        answer = {"FailedRecordCount": failed, "Records": results, "EncryptionType": "NONE"}
        return 200, response_headers, json.dumps(answer).encode()
