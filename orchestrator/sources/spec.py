"""Parsing a source string (path or URL) into what kind of source it is."""

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, urlparse

from orchestrator.sources.stream_id import check_stream_id, derive_stream_id

NETWORK_SCHEMES: Final = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt")
SYNTHETIC_SCHEME: Final = "synthetic"


class SourceKind(StrEnum):
    FILE = "file"
    """A video file OpenCV/FFmpeg can decode; replayed as if live or processed offline."""
    NETWORK = "network"
    """RTSP/HTTP/HLS/... : live by nature, reconnected with backoff."""
    IMAGES = "images"
    """A directory of still images, in name order."""
    SYNTHETIC = "synthetic"
    """Generated frames (tests, load generation): ``synthetic:?width=640&height=480&fps=30&frames=100``."""


@dataclass(frozen=True, slots=True)
class SourceSpec:
    stream_id: str
    """In the safe set of :mod:`orchestrator.sources.stream_id` (checked here: InvalidStreamIdError)."""
    uri: str
    kind: SourceKind

    def __post_init__(self) -> None:
        check_stream_id(self.stream_id)

    @property
    def is_live(self) -> bool:
        return self.kind is SourceKind.NETWORK


def parse_source(uri: str, stream_id: str | None = None) -> SourceSpec:
    """Classify ``uri``; ``stream_id`` defaults to the file name stem or the URL's host/path, made safe.

    A given ``stream_id`` outside the safe set raises InvalidStreamIdError (a ValueError)."""
    parsed = urlparse(uri)
    scheme = parsed.scheme.lower()
    if scheme in NETWORK_SCHEMES:
        kind = SourceKind.NETWORK
        default_id = (parsed.hostname or "stream") + parsed.path.replace("/", "-").rstrip("-")
    elif scheme == SYNTHETIC_SCHEME:
        kind = SourceKind.SYNTHETIC
        default_id = "synthetic"
    else:
        path = Path(uri)
        kind = SourceKind.IMAGES if path.is_dir() else SourceKind.FILE
        default_id = path.stem or path.name
    return SourceSpec(derive_stream_id(default_id) if stream_id is None else stream_id, uri, kind)


def synthetic_params(uri: str) -> dict[str, float]:
    """Numeric query parameters of a ``synthetic:`` URI."""
    return {k: float(v[-1]) for k, v in parse_qs(urlparse(uri).query).items()}
