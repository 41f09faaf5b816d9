"""What a stream id may be: it becomes an S3 key segment, a Kinesis partition key, a metric label and part of
log lines, so it is restricted to a safe set rather than escaped at each of those places."""

import re
from typing import Final

STREAM_ID_MAX_CHARS: Final = 128
STREAM_ID_PATTERN: Final = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{STREAM_ID_MAX_CHARS - 1}}}")
"""A letter or digit, then letters, digits, '.', '_' or '-': no path segment like '..', no whitespace."""
FALLBACK_STREAM_ID: Final = "stream"
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9._-]+")


class InvalidStreamIdError(ValueError):
    """A configured stream id outside the safe set; the message is one line and names the rule."""


def check_stream_id(stream_id: str) -> str:
    """``stream_id`` itself if it is in the safe set, else InvalidStreamIdError."""
    if STREAM_ID_PATTERN.fullmatch(stream_id) is None:
        raise InvalidStreamIdError(
            f"stream id {stream_id!r} is not allowed: use 1-{STREAM_ID_MAX_CHARS} letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return stream_id


def derive_stream_id(text: str) -> str:
    """A safe id made from a file name or URL (for streams the config does not name): unsafe runs become '-'."""
    cleaned = _UNSAFE_RUN.sub("-", text).lstrip("._-")[:STREAM_ID_MAX_CHARS].rstrip("-")
    return cleaned or FALLBACK_STREAM_ID
