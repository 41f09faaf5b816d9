"""A network stream that stalls mid-way is detected, reconnected, and its frames continue in order."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from orchestrator.config.run_config import Mode
from orchestrator.paths import MEDIA_DIR
from orchestrator.sources.source_thread import ReconnectPolicy
from orchestrator.sources.spec import parse_source
from tests.pipeline_run import of_stream, run_and_read, session_config

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
VIDEO = (MEDIA_DIR / "vtest.avi").read_bytes()
STALL_AFTER_BYTES = 1_500_000


class StallingVideoServer(BaseHTTPRequestHandler):
    """Serves vtest.avi over HTTP; the first connection stops sending part-way and hangs."""

    connections = 0
    release = threading.Event()

    def do_GET(self) -> None:
        type(self).connections += 1
        first = type(self).connections == 1
        self.send_response(200)
        self.send_header("Content-Type", "video/x-msvideo")
        self.send_header("Content-Length", str(len(VIDEO)))
        self.end_headers()
        try:
            self.wfile.write(VIDEO[:STALL_AFTER_BYTES] if first else VIDEO)
            self.wfile.flush()
            if first:
                type(self).release.wait(60)  # hold the connection open, sending nothing: a stalled camera
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def stalling_url() -> Iterator[str]:
    StallingVideoServer.connections = 0
    StallingVideoServer.release.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), StallingVideoServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/vtest.avi"
    StallingVideoServer.release.set()
    server.shutdown()
    server.server_close()


async def test_stalled_stream_reconnects_and_continues(grpc_url: str, stalling_url: str, tmp_path: Path) -> None:
    reconnect = ReconnectPolicy(initial_s=0.1, max_s=0.2, max_attempts=3)
    config = session_config(
        tmp_path, (parse_source(stalling_url, "gate"),), grpc_url, Mode.OFFLINE, max_frames=300, reconnect=reconnect
    )
    summary, events = await run_and_read(config)
    states = [(e["state"], e["frame_seq"]) for e in of_stream(events, "gate", "status")]
    assert [s for s, _ in states] == ["started", "reconnecting", "started", "ended"], states
    assert "stalled or disconnected" in of_stream(events, "gate", "status")[1]["detail"]
    stalled_at = states[1][1]
    assert 0 < stalled_at < 300, "the stall came part-way through"
    frames = [e for e in of_stream(events, "gate") if e["type"] != "status"]
    seqs = [e["frame_seq"] for e in frames]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "frame order survives the reconnect"
    assert max(seqs) == 299, "the stream went on after reconnecting"
    assert any(seq > stalled_at for seq in seqs)
    assert summary.streams[0].frames_read == 300
    assert StallingVideoServer.connections == 2
