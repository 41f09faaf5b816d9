"""A live HLS reader that knows where it is in the stream.

OpenCV/FFmpeg's HLS demuxer hides what a live pipeline needs: it cannot tell an ended stream from a paused
encoder (both look like a read timeout), and a reopened demuxer starts again three segments from the live edge,
replaying frames that were already emitted. This reader follows the playlist itself:

* each frame has an absolute position (media sequence number, index in the segment) that survives reconnects,
  so the source thread never emits a frame again after reopening (a live stream reopens at its newest segment);
* ``EXT-X-ENDLIST`` is the end of the stream; a playlist that stops growing for ``stall_timeout_s`` is a stall;
* each frame's media time is its PTS on the stream's clock (continuous across segments, the same after a
  reconnect); its capture time comes from the segment's ``EXT-X-PROGRAM-DATE-TIME`` (the encoder's clock) plus
  its offset in the segment, so glass-to-event can be measured from capture rather than from pitchside's decode,
  and cameras whose encoders share a clock line up; an undated live stream is anchored at its first frame's
  arrival instead;
* segments are downloaded whole and decoded frame by frame (one OpenCV capture over a temporary file); the
  source thread paces the frames by their media timestamps, so a segment arriving in one burst is spread out.
"""

import logging
import os
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from orchestrator.sources.hls_playlist import MasterPlaylist, MediaPlaylist, PlaylistError, Segment, parse_playlist
from orchestrator.sources.media_clock import ContainerClock
from orchestrator.sources.reader import CaptureClock, FrameDecodeError, FrameTiming, SourceError
from orchestrator.vision.decode_limits import MAX_ENCODED_BYTES, DecodeLimitError, check_size

log = logging.getLogger(__name__)
HTTP_TIMEOUT_S: Final = 5.0
DEFAULT_STALL_TIMEOUT_S: Final = 5.0
"""No new segment for this long (or three target durations, if longer) is a stall, not an end."""
MIN_RELOAD_S: Final = 0.1
RELOAD_FRACTION: Final = 0.25
"""At the live edge the playlist is reloaded every quarter target duration: the wait for a new segment adds
at most that to glass-to-event (RFC 8216 suggests half; a quarter halves the added latency for one small GET)."""
Fetch = Callable[[str], bytes]


def is_hls(uri: str) -> bool:
    return uri.split("?", 1)[0].lower().endswith(".m3u8") and uri.lower().startswith(("http://", "https://"))


def http_get(url: str) -> bytes:
    """The body at ``url`` (at most MAX_ENCODED_BYTES); SourceError when it cannot be fetched."""
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:
            body: bytes = response.read(MAX_ENCODED_BYTES + 1)
    except (urllib.error.URLError, OSError) as exc:
        raise SourceError(f"{url}: {exc}") from exc
    if len(body) > MAX_ENCODED_BYTES:
        raise SourceError(f"{url}: more than {MAX_ENCODED_BYTES} bytes")
    return body


class HlsReader:
    """Frames of a live (or finished) HLS stream: a finished one from its first segment, a live one from its
    newest (lowest latency)."""

    def __init__(
        self,
        url: str,
        *,
        stall_timeout_s: float = DEFAULT_STALL_TIMEOUT_S,
        fetch: Fetch = http_get,
        stop: threading.Event | None = None,
    ) -> None:
        self._fetch = fetch
        self._stop = stop or threading.Event()
        self._url = self._media_url(url)
        playlist = self._load()
        self._stall_s = max(stall_timeout_s, 3 * playlist.target_duration_s)
        self._playlist = playlist
        self._next = _first_sequence(playlist)
        self._segment: Segment | None = None
        self._capture: cv2.VideoCapture | None = None
        self._segment_file: Path | None = None
        self._index = 0
        self._clock: ContainerClock | None = None
        self._live = not playlist.ended  # a playlist finished when opened is a recording: no arrival anchor
        self._anchor: float | None = None
        self._timing: FrameTiming | None = None
        self._finished = False

    @property
    def fps(self) -> float | None:
        return None  # frames are paced by their timestamps, not by a declared rate

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def timing(self) -> FrameTiming | None:
        return self._timing

    @property
    def capture_clock(self) -> CaptureClock:
        dated = any(s.program_date_time is not None for s in self._playlist.segments)
        return CaptureClock.SOURCE if dated else CaptureClock.ARRIVAL

    def read(self) -> npt.NDArray[np.uint8] | None:
        """The next frame; None at the end of the stream (``finished``) or after a stall."""
        while not self._stop.is_set():
            if self._capture is not None:
                frame = self._next_frame()
                if frame is not None:
                    return frame
                self._close_segment()
                continue
            segment = self._wait_for_segment()
            if segment is None:
                return None
            self._open_segment(segment)
        return None

    def close(self) -> None:
        self._close_segment()

    def _next_frame(self) -> npt.NDArray[np.uint8] | None:
        assert self._capture is not None and self._segment is not None
        ok, frame = self._capture.read()
        if not ok or frame is None:
            return None
        assert self._clock is not None
        media_s = self._clock.frame_read()
        offset_s = max(0.0, float(self._capture.get(cv2.CAP_PROP_POS_MSEC)) / 1e3)  # from the segment's start
        position = (self._segment.sequence, self._index)
        self._index += 1
        date = self._segment.program_date_time
        if date is not None:
            self._timing = FrameTiming(media_s, position, date + offset_s)
        else:
            self._timing = FrameTiming(media_s, position, None, self._anchored(media_s))
        height, width = frame.shape[:2]
        try:
            check_size(width, height, f"{self._url} frame")
        except DecodeLimitError as exc:
            raise FrameDecodeError(str(exc)) from exc
        return np.asarray(frame, dtype=np.uint8)

    def _anchored(self, media_s: float) -> float | None:
        """An undated live stream's frame in Unix time: its first frame's arrival plus the PTS since."""
        if not self._live:
            return None
        if self._anchor is None:
            self._anchor = time.time() - media_s
        return self._anchor + media_s

    def _wait_for_segment(self) -> Segment | None:
        """The segment with sequence ``self._next``, reloading the playlist until it appears, the playlist ends
        (finished) or it stops growing for the stall timeout. The first reload is immediate: the segment wanted
        is usually already published while the previous one was being paced out."""
        deadline = time.monotonic() + self._stall_s
        reloaded = False
        while not self._stop.is_set():
            segment = self._take_wanted()
            if segment is not None:
                return segment
            if self._playlist.ended:
                self._finished = True
                return None
            if time.monotonic() >= deadline:
                return None
            if reloaded:  # the playlist did not have it yet: wait a little before asking again
                self._stop.wait(max(MIN_RELOAD_S, self._playlist.target_duration_s * RELOAD_FRACTION))
            try:
                self._playlist = self._load()
            except (SourceError, PlaylistError) as exc:  # a failed reload counts towards the stall
                log.debug("%s: reload failed: %s", self._url, exc)
            reloaded = True
        return None

    def _take_wanted(self) -> Segment | None:
        """The first segment at or after ``self._next`` in the current playlist, which becomes the next one read."""
        for segment in self._playlist.segments:
            if segment.sequence >= self._next:
                if segment.sequence > self._next:
                    log.warning(
                        "%s: segments %d..%d left the playlist before they were read",
                        self._url,
                        self._next,
                        segment.sequence - 1,
                    )
                self._next = segment.sequence + 1
                return segment
        return None

    def _open_segment(self, segment: Segment) -> None:
        try:
            body = self._fetch(segment.url)
        except SourceError as exc:
            log.warning("%s: segment %d could not be fetched: %s", self._url, segment.sequence, exc)
            return
        handle, name = tempfile.mkstemp(prefix="pitchside-hls-", suffix=Path(segment.url.split("?")[0]).suffix)
        with os.fdopen(handle, "wb") as file:
            file.write(body)
        self._segment_file = Path(name)
        capture = cv2.VideoCapture(name, cv2.CAP_FFMPEG)
        if not capture.isOpened():
            capture.release()
            self._segment_file.unlink(missing_ok=True)
            raise FrameDecodeError(f"{segment.url}: segment {segment.sequence} is not decodable video")
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self._clock = ContainerClock(capture, fps if 0.0 < fps < 1000.0 else None)
        self._segment, self._capture, self._index = segment, capture, 0

    def _close_segment(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
        if self._segment_file is not None:
            self._segment_file.unlink(missing_ok=True)
            self._segment_file = None

    def _load(self) -> MediaPlaylist:
        playlist = parse_playlist(self._fetch(self._url).decode("utf-8", "replace"), self._url)
        if not isinstance(playlist, MediaPlaylist):
            raise PlaylistError(f"{self._url}: expected a media playlist")
        return playlist

    def _media_url(self, url: str) -> str:
        try:
            playlist = parse_playlist(self._fetch(url).decode("utf-8", "replace"), url)
        except PlaylistError as exc:
            raise SourceError(str(exc)) from exc
        return playlist.variants[0] if isinstance(playlist, MasterPlaylist) else url


def _first_sequence(playlist: MediaPlaylist) -> int:
    if not playlist.segments:
        return 0
    return playlist.segments[0 if playlist.ended else -1].sequence
