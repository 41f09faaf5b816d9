"""A real live HLS stream for tests: the ffmpeg binary shipped in the imageio-ffmpeg wheel encodes footage in
real time into a directory that a local HTTP server on 127.0.0.1 serves."""

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import imageio_ffmpeg

from orchestrator.paths import MEDIA_DIR

FOOTAGE = MEDIA_DIR / "vtest.avi"
PLAYLIST = "index.m3u8"
WAIT_POLL_S = 0.1
WAIT_POLLS = 300


class _QuietFiles(SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        super().do_GET()


@contextmanager
def serve_directory(directory: Path) -> Iterator[tuple[str, list[str]]]:
    """``http://127.0.0.1:PORT`` serving ``directory``, and the list of paths requested so far."""
    handler = type("Files", (_QuietFiles,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", handler.requests
    finally:
        server.shutdown()
        server.server_close()


class LiveEncoder:
    """ffmpeg encoding ``seconds`` of FOOTAGE at ``fps`` in real time (``-re``) into live HLS with
    PROGRAM-DATE-TIME; it writes EXT-X-ENDLIST when it finishes. ``pause``/``resume`` freeze the encoder."""

    def __init__(self, directory: Path, *, seconds: float, fps: int = 10, segment_s: float = 1.0) -> None:
        self.directory = directory
        self.fps = fps
        directory.mkdir(parents=True, exist_ok=True)
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-re", "-i", str(FOOTAGE),
            "-t", str(seconds), "-vf", f"fps={fps}", "-an", "-c:v", "libx264", "-preset", "ultrafast",
            "-tune", "zerolatency", "-g", str(int(fps * segment_s)), "-f", "hls", "-hls_time", str(segment_s),
            "-hls_list_size", "6", "-hls_flags", "program_date_time+independent_segments+temp_file",
            str(directory / PLAYLIST),
        ]  # fmt: skip
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait_for_playlist(self) -> None:
        for _ in range(WAIT_POLLS):
            if (self.directory / PLAYLIST).exists():
                return
            time.sleep(WAIT_POLL_S)
        raise AssertionError("ffmpeg wrote no playlist")

    def pause(self) -> None:
        os.kill(self._process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self._process.pid, signal.SIGCONT)

    def wait(self, timeout: float) -> int:
        return self._process.wait(timeout)

    def stop(self) -> None:
        if self._process.poll() is None:
            self.resume()
            self._process.kill()
        self._process.wait()


@contextmanager
def live_hls(directory: Path, *, seconds: float, fps: int = 10) -> Iterator[tuple[str, LiveEncoder]]:
    """The playlist URL of a live stream being encoded now, and its encoder."""
    encoder = LiveEncoder(directory, seconds=seconds, fps=fps)
    try:
        encoder.wait_for_playlist()
        with serve_directory(directory) as (base, _):
            yield f"{base}/{PLAYLIST}", encoder
    finally:
        encoder.stop()


def encode_file(path: Path, *, seconds: float, fps: int = 10) -> Path:
    """A short MP4 (moov first, so it streams over plain HTTP) of FOOTAGE at ``fps``."""
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(FOOTAGE),
         "-t", str(seconds), "-vf", f"fps={fps}", "-an", "-c:v", "libx264", "-preset", "ultrafast",
         "-movflags", "+faststart", str(path)],
        check=True, timeout=120,
    )  # fmt: skip
    return path
