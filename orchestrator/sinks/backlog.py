"""What a state directory holds for the feeds (journaled events, dead letters), and the two ways to empty it.

* :func:`scan` reads the journals and the dead-letter file without changing them.
* :func:`replay` delivers every journal of the configured sinks to its feed, as a restarted run would, for at most
  ``timeout_s``; what the feed did not take stays journaled.
* :func:`drain` moves journaled events into a JSON Lines file (one line per event, with its ``sink``) and deletes
  them from the journal: for a feed that is gone for good, or a disk that must be freed; the file can be
  backfilled later.

Replay and drain must not run while an orchestrator uses the same state directory (the journal has one writer).
"""

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from prometheus_client import CollectorRegistry

from orchestrator.sinks.errors import JournalCorruptError
from orchestrator.sinks.fanout import SinkFanout, journal_directory
from orchestrator.sinks.journal import SEGMENT_SUFFIX, Journal
from orchestrator.sinks.private_file import open_private
from orchestrator.sinks.record import decode_record, record_to_json
from orchestrator.sinks.settings import DeliverySettings
from orchestrator.sinks.uri import parse_sink_uri


@dataclass(frozen=True, slots=True)
class JournalBacklog:
    """One journal directory. ``sink`` is the configured sink it belongs to, or ``None`` for a directory no
    configured sink owns (a sink since removed from the config, or another replica's)."""

    directory: Path
    sink: str | None
    segments: int
    records: int
    oldest_emitted_at: float | None

    def age_s(self, now: float) -> float | None:
        return None if self.oldest_emitted_at is None else max(0.0, now - self.oldest_emitted_at)


@dataclass(frozen=True, slots=True)
class Backlog:
    journals: tuple[JournalBacklog, ...]
    dead_letter_path: Path
    dead_letters: int

    @property
    def journaled(self) -> int:
        return sum(j.records for j in self.journals)

    def to_json(self, now: float) -> dict[str, object]:
        return {
            "journaled": self.journaled,
            "journals": [
                {
                    "sink": j.sink,
                    "directory": str(j.directory),
                    "segments": j.segments,
                    "records": j.records,
                    "oldest_age_s": j.age_s(now),
                }
                for j in self.journals
            ],
            "dead_letter_path": str(self.dead_letter_path),
            "dead_letters": self.dead_letters,
        }


def scan(sinks: Sequence[str], settings: DeliverySettings) -> Backlog:
    """Every journal under ``settings.journal_dir`` (the configured sinks' first, then any other) and the number
    of dead letters. Changes nothing on disk."""
    names = [parse_sink_uri(uri).name for uri in sinks]
    owners = {journal_directory(settings.journal_dir, name): name for name in names}
    found = sorted(p for p in settings.journal_dir.iterdir() if p.is_dir()) if settings.journal_dir.is_dir() else []
    directories = list(owners) + [p for p in found if p not in owners]
    return Backlog(
        journals=tuple(_journal_backlog(d, owners.get(d)) for d in directories),
        dead_letter_path=settings.dead_letter_path,
        dead_letters=_count_lines(settings.dead_letter_path),
    )


def _journal_backlog(directory: Path, sink: str | None) -> JournalBacklog:
    segments = sorted(directory.glob(f"*{SEGMENT_SUFFIX}")) if directory.is_dir() else []
    records, oldest = 0, None
    for segment in segments:
        for line in segment.read_bytes().splitlines():
            if not line.strip():
                continue
            records += 1
            if oldest is None:
                oldest = _emitted_at(line)
    return JournalBacklog(directory, sink, len(segments), records, oldest)


def _emitted_at(line: bytes) -> float | None:
    try:
        return decode_record(line).emitted_at
    except JournalCorruptError:
        return None


def _count_lines(path: Path) -> int:
    return sum(1 for line in path.read_bytes().splitlines() if line.strip()) if path.is_file() else 0


async def replay(sinks: Sequence[str], settings: DeliverySettings, timeout_s: float) -> Backlog:
    """Deliver what the configured sinks' journals hold, for at most ``timeout_s``; returns what is left.

    Raises :class:`~orchestrator.sinks.errors.SinkConfigError` for a bad sink URI or a feed that does not exist.
    """
    bounded = replace(settings, flush_timeout_s=timeout_s)
    # A restarted fan-out replays its journals before anything else; closing it at once waits (up to the flush
    # timeout) for exactly that replay and leaves whatever the feed did not take in the journal.
    async with SinkFanout.from_uris(sinks, bounded, registry=CollectorRegistry()):
        pass
    return scan(sinks, settings)


async def drain(sinks: Sequence[str], settings: DeliverySettings, out: Path) -> int:
    """Append every journaled event (all journals, configured or not) to ``out`` and delete it from its journal;
    returns how many were moved. Each segment is deleted only after its lines are on disk in ``out``."""
    moved = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    for backlog in scan(sinks, settings).journals:
        if backlog.segments == 0:
            continue
        journal = Journal.open(backlog.directory, segment_records=settings.segment_records)
        sink = backlog.sink or backlog.directory.name
        while (segment := await journal.take()) is not None:
            _append_fsynced(out, [_drained_line(sink, record_to_json(r)) for r in segment.records])
            await journal.ack(segment)
            moved += len(segment.records)
    return moved


def _drained_line(sink: str, record: dict[str, object]) -> bytes:
    entry = {"sink": sink, "drained_at": time.time(), **record}
    return json.dumps(entry, separators=(",", ":")).encode("utf-8") + b"\n"


def _append_fsynced(path: Path, lines: list[bytes]) -> None:
    with open_private(path) as file:  # the events are as private here as in the journal
        file.writelines(lines)
        file.flush()
        os.fsync(file.fileno())
