"""HLS playlists (RFC 8216) as far as a live reader needs them: variants, segments with their media sequence
numbers, durations and PROGRAM-DATE-TIME, and whether the stream has ended."""

import itertools
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin


class PlaylistError(ValueError):
    """Not an HLS playlist, or one this reader cannot follow."""


@dataclass(frozen=True, slots=True)
class Segment:
    sequence: int
    """Media sequence number: absolute, so it identifies the segment across playlist reloads and reconnects."""
    url: str
    duration_s: float
    program_date_time: float | None
    """Unix time of the segment's first frame by the encoder's clock (EXT-X-PROGRAM-DATE-TIME), when stated."""


@dataclass(frozen=True, slots=True)
class MediaPlaylist:
    target_duration_s: float
    segments: tuple[Segment, ...]
    ended: bool
    """EXT-X-ENDLIST: no segment will ever be added (a finished event or a VOD)."""


@dataclass(frozen=True, slots=True)
class MasterPlaylist:
    variants: tuple[str, ...]
    """Variant playlist URLs in the order listed."""


def parse_playlist(text: str, url: str) -> MediaPlaylist | MasterPlaylist:
    """Parse the playlist served at ``url`` (relative URIs resolve against it)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise PlaylistError(f"{url}: not an HLS playlist (no #EXTM3U header)")
    if any(line.startswith("#EXT-X-STREAM-INF") for line in lines):
        return _master(lines, url)
    return _media(lines, url)


def _master(lines: list[str], url: str) -> MasterPlaylist:
    variants = [
        urljoin(url, nxt)
        for line, nxt in itertools.pairwise(lines)
        if line.startswith("#EXT-X-STREAM-INF") and not nxt.startswith("#")
    ]
    if not variants:
        raise PlaylistError(f"{url}: master playlist without variants")
    return MasterPlaylist(tuple(variants))


def _media(lines: list[str], url: str) -> MediaPlaylist:
    target, sequence, ended = 0.0, 0, False
    duration: float | None = None
    date: float | None = None
    segments: list[Segment] = []
    for line in lines[1:]:
        tag, _, value = line.partition(":")
        if tag == "#EXT-X-TARGETDURATION":
            target = float(value)
        elif tag == "#EXT-X-MEDIA-SEQUENCE":
            sequence = int(value)
        elif tag == "#EXT-X-ENDLIST":
            ended = True
        elif tag == "#EXTINF":
            duration = float(value.split(",")[0])
        elif tag == "#EXT-X-PROGRAM-DATE-TIME":
            date = _timestamp(value)
        elif not line.startswith("#"):
            segments.append(Segment(sequence + len(segments), urljoin(url, line), duration or target, date))
            duration = None
            date = None if date is None else date + segments[-1].duration_s  # carries on until restated
    if target <= 0:
        raise PlaylistError(f"{url}: media playlist without #EXT-X-TARGETDURATION")
    return MediaPlaylist(target, tuple(segments), ended)


def _timestamp(value: str) -> float:
    text = value.strip().replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":  # +0000 -> +00:00 (older Pythons' fromisoformat)
        text = f"{text[:-2]}:{text[-2:]}"
    return datetime.fromisoformat(text).timestamp()
