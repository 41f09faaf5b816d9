"""The unit every sink delivers: one detection event, already serialised by the pipeline."""

import json
import time
from dataclasses import dataclass, field
from typing import Any

from orchestrator.sinks.errors import JournalCorruptError


@dataclass(frozen=True, slots=True)
class SinkRecord:
    """One detection event on its way to the feeds.

    ``event_id`` is the idempotency key: delivery is at-least-once, and every copy of an event carries the same
    ``event_id``. ``stream_id`` names the camera; it is the ordering key (Kinesis partition key, SQS FIFO message
    group, S3 key component). ``payload`` is the event's UTF-8 JSON, one line, no trailing newline.
    ``emitted_at`` is the wall-clock time (epoch seconds) the pipeline produced the event; lag is measured from it.
    """

    event_id: str
    stream_id: str
    frame_seq: int
    payload: bytes
    emitted_at: float = field(default_factory=time.time)


def record_to_json(record: SinkRecord) -> dict[str, Any]:
    """A JSON-ready mapping of ``record``; payload bytes survive the round trip even if not valid UTF-8."""
    return {
        "event_id": record.event_id,
        "stream_id": record.stream_id,
        "frame_seq": record.frame_seq,
        "emitted_at": record.emitted_at,
        # surrogateescape keeps any non-UTF-8 byte as a lone surrogate that json escapes and restores.
        "payload": record.payload.decode("utf-8", errors="surrogateescape"),
    }


def encode_record(record: SinkRecord) -> bytes:
    """One journal line (newline-terminated) holding ``record``."""
    return json.dumps(record_to_json(record), separators=(",", ":")).encode("utf-8") + b"\n"


def decode_record(line: bytes) -> SinkRecord:
    """The record in one journal line; raises :class:`JournalCorruptError` if the line is not one."""
    try:
        data = json.loads(line)
        return SinkRecord(
            event_id=str(data["event_id"]),
            stream_id=str(data["stream_id"]),
            frame_seq=int(data["frame_seq"]),
            payload=str(data["payload"]).encode("utf-8", errors="surrogateescape"),
            emitted_at=float(data["emitted_at"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise JournalCorruptError(f"not a journal record: {line[:80]!r}") from exc
