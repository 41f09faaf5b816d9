"""A real headless Chromium, driven over the DevTools protocol on a pipe, and a loopback HTTP server for its pages.

The pipe (``--remote-debugging-pipe``: JSON messages ending in NUL on file descriptors 3 and 4) needs neither a
websocket client nor an npm package. Debian's ``chromium`` package is the browser (scripts/bootstrap.sh installs it).
"""

import base64
import contextlib
import functools
import http.server
import io
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import cv2
import numpy as np

FLAGS: Final = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required", "--remote-debugging-pipe",
)  # fmt: skip
REPLY_TIMEOUT_S: Final = 60.0
MISSING: Final = "chromium is not installed (bash scripts/bootstrap.sh installs Debian's chromium package)"


def chromium_binary() -> str | None:
    return shutil.which("chromium")


class BrowserError(Exception):
    """The browser answered with an error, threw in the page, or did not answer in time."""


class Chromium:
    """``with Chromium() as browser``: one page; ``open(url)``, ``evaluate(js)``, ``screenshot()``."""

    def __init__(self, binary: str) -> None:
        self._binary = binary
        self._next_id = 0
        self._buffer = b""
        self._session = ""

    def __enter__(self) -> "Chromium":
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        to_browser, self._commands = os.pipe()
        self._replies, from_browser = os.pipe()
        # The shell puts our pipe ends on the descriptors 3 and 4 the protocol expects, then becomes chromium.
        self._process = subprocess.Popen(
            ["bash", "-c", f'exec "$@" 3<&{to_browser} 4>&{from_browser}', "chromium", self._binary, *FLAGS,
             f"--user-data-dir={self._profile.name}", "about:blank"],
            pass_fds=(to_browser, from_browser), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_browser)
        os.close(from_browser)
        target = self._call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self._call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable")
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(BrowserError, OSError):
            self._call("Browser.close")
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._commands)
        os.close(self._replies)
        self._profile.cleanup()

    def open(self, url: str, viewport: tuple[int, int]) -> None:
        """Load ``url`` in a ``viewport`` (width, height) of CSS pixels at scale 1, and wait for its load event."""
        width, height = viewport
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        self.call("Page.navigate", url=url)
        self._wait_event("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The value of ``expression`` in the page (a promise is awaited); BrowserError if it throws."""
        reply = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            raise BrowserError(details.get("exception", {}).get("description") or details.get("text"))
        return reply["result"].get("value")

    def screenshot(self) -> np.ndarray:
        """What the page shows, as a BGR image of the viewport's size."""
        data = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        return np.asarray(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """A command to the page."""
        return self._call(method, self._session, **params)

    def _call(self, method: str, session: str = "", **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return dict(reply["result"])

    def _wait_event(self, method: str) -> None:
        while self._receive().get("method") != method:
            pass

    def _receive(self) -> dict[str, Any]:
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._replies], [], [], left)[0]:
                raise BrowserError(f"chromium did not answer within {REPLY_TIMEOUT_S:.0f} s")
            chunk = os.read(self._replies, 1 << 20)
            if not chunk:
                raise BrowserError(f"chromium exited (status {self._process.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return dict(json.loads(message))


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with byte ranges, as a browser needs to seek in a video (without them Chromium treats the
    video as unseekable and a seek lands back at 0)."""

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "").strip())
        if wanted is None or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        start, end = int(wanted[1]), min(int(wanted[2] or size - 1), size - 1)
        if start > end:
            self.send_error(416, "range not satisfiable")
            return None
        with path.open("rb") as file:
            file.seek(start)
            body = file.read(end - start + 1)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """``folder``'s files over HTTP on the loopback interface; yields the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_RangeHandler, directory=folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


VIDEO_PAGE: Final = """<!doctype html>
<html><head><style>html, body {{ margin: 0; overflow: hidden; background: #000 }} video {{ display: block }}</style>
</head><body><video src="{src}" muted playsinline preload="auto"></video></body></html>
"""

PLAY_THEN_SEEK: Final = """(async () => {{
  const video = document.querySelector("video");
  const failed = () => new Error("video error " + (video.error ? video.error.code + " " + video.error.message : "?"));
  if (video.readyState < 1) {{
    await new Promise((ok, fail) => {{ video.onloadedmetadata = ok; video.onerror = () => fail(failed()); }});
  }}
  video.playbackRate = 4;
  const ended = new Promise((ok) => {{ video.onended = ok; }});
  await video.play();
  await ended;
  const played = video.getVideoPlaybackQuality();
  const endedAt = video.currentTime;
  video.currentTime = {seek_s};
  await new Promise((ok) => {{ video.onseeked = ok; }});
  await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
  return {{
    width: video.videoWidth, height: video.videoHeight, duration: video.duration, error: video.error,
    ended_at: endedAt, shown_at: video.currentTime,
    frames_shown: played.totalVideoFrames, frames_dropped: played.droppedVideoFrames,
  }};
}})()"""


def play_video(browser: Chromium, folder: Path, name: str, size: tuple[int, int], seek_s: float) -> dict[str, Any]:
    """Serve ``folder/name`` in a page with a <video>, play it to the end, seek to ``seek_s`` and report what the
    browser decoded: width, height, duration, ended_at (its time when playing ended), shown_at (after the seek),
    frames_shown and frames_dropped while playing. The page then shows the frame at ``seek_s`` at its natural size
    from the top-left corner (screenshot it)."""
    (folder / "page.html").write_text(VIDEO_PAGE.format(src=name))
    with serve_folder(folder) as base:
        browser.open(f"{base}/page.html", size)
        return dict(browser.evaluate(PLAY_THEN_SEEK.format(seek_s=seek_s)))
