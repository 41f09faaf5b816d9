"""A sink's on-disk spill: an append-only FIFO of records in numbered JSON Lines segment files.

Records are appended to the *active* segment; it is sealed when it holds ``segment_records`` records or when the
delivery channel takes it for replay. Segments are replayed oldest first and deleted only once everything in them
was delivered or dead-lettered, so a crash replays (duplicates, same ``event_id``) rather than loses. A restarted
process pointed at the same directory finds the segments and replays them before anything newer.

Segment ids leave gaps (:data:`SEGMENT_ID_STRIDE`) so that shutdown can put records that are older than the unread
segments (still in memory then) in a segment ordered before them.
"""

import asyncio
import logging
import os
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from orchestrator.sinks.errors import JournalCorruptError
from orchestrator.sinks.private_file import make_private_dir, open_private
from orchestrator.sinks.record import SinkRecord, decode_record, encode_record

logger = logging.getLogger(__name__)

SEGMENT_SUFFIX = ".jsonl"
SEGMENT_ID_STRIDE = 1_000_000
_SEGMENT_ID_DIGITS = 20


@dataclass(frozen=True, slots=True)
class Segment:
    """Records taken from the journal for replay; :meth:`Journal.ack` deletes them once delivered."""

    segment_id: int
    path: Path
    records: tuple[SinkRecord, ...]


class Journal:
    """One sink's spill directory. Not thread-safe: use it from the event loop that owns the sink.

    ``append`` is synchronous and cheap (a buffered write, page cache at worst) so that ``submit`` never awaits;
    reads, fsyncs and deletes run in threads.
    """

    def __init__(
        self, directory: Path, *, segment_records: int, segment_ids: list[int], write_through: bool = False
    ) -> None:
        self._directory = directory
        self._segment_records = segment_records
        self._write_through = write_through
        self._sealed: deque[int] = deque(sorted(segment_ids))
        self._last_id = max(segment_ids, default=0)
        self._active_id: int | None = None
        self._active_file: BinaryIO | None = None
        self._active_records: list[SinkRecord] = []
        self._active_since = 0.0
        self._unsynced: set[Path] = set()
        self._dirty = False

    @classmethod
    def open(cls, directory: Path, *, segment_records: int, write_through: bool = False) -> "Journal":
        """The journal in ``directory`` (created if missing), with whatever a previous run left there.

        ``write_through``: every append reaches the kernel before it returns (survives the process being killed)
        instead of waiting in a userspace buffer."""
        make_private_dir(directory)
        ids = [int(p.stem) for p in directory.glob(f"*{SEGMENT_SUFFIX}") if p.stem.isdigit()]
        if ids:
            logger.info("journal %s holds %d segment(s) from a previous run", directory, len(ids))
        return cls(directory, segment_records=segment_records, segment_ids=ids, write_through=write_through)

    @property
    def directory(self) -> Path:
        return self._directory

    @property
    def pending_segments(self) -> int:
        """Segments not yet taken for replay (the active one included if it holds records)."""
        return len(self._sealed) + (1 if self._active_records else 0)

    def has_pending(self) -> bool:
        return bool(self._sealed or self._active_records)

    @property
    def only_active(self) -> tuple[int, float] | None:
        """(records, time.monotonic() of the first) when only the active segment holds records, else None."""
        if self._sealed or not self._active_records:
            return None
        return len(self._active_records), self._active_since

    def append(self, record: SinkRecord) -> None:
        """Add ``record`` after everything already in the journal."""
        if self._active_file is None:
            self._open_active()
        assert self._active_file is not None
        self._active_file.write(encode_record(record))
        if self._write_through:
            self._active_file.flush()
        self._dirty = True
        self._active_records.append(record)
        if len(self._active_records) >= self._segment_records:
            self._seal_active()

    async def take(self) -> Segment | None:
        """The oldest segment not yet taken, or ``None`` if the journal holds nothing more.

        When only the active segment is left it is sealed and returned from memory without awaiting, so a caller
        that checks :meth:`has_pending` right after sees a state no ``append`` slipped into.
        """
        while self._sealed:
            segment_id = self._sealed[0]
            path = self._path(segment_id)
            try:
                records = await asyncio.to_thread(_read_segment, path)
            except FileNotFoundError:
                logger.error("journal segment %s vanished; skipping it", path)
                self._sealed.popleft()
                continue
            self._sealed.popleft()
            return Segment(segment_id, path, records)
        if self._active_records and self._active_id is not None:
            segment = Segment(self._active_id, self._path(self._active_id), tuple(self._active_records))
            self._close_active()
            return segment
        return None

    async def ack(self, segment: Segment) -> None:
        """Forget ``segment``: everything in it reached the feed or the dead-letter file."""
        await asyncio.to_thread(segment.path.unlink, missing_ok=True)
        self._unsynced.discard(segment.path)

    async def put_front(self, records: list[SinkRecord]) -> None:
        """Write ``records`` as a segment replayed before every segment not yet taken (used at shutdown for
        records that were still in memory, which are older than anything spilled after them)."""
        if not records:
            return
        unread = list(self._sealed) + ([self._active_id] if self._active_records and self._active_id else [])
        if unread:
            segment_id = min(unread) - 1
        else:
            self._last_id += SEGMENT_ID_STRIDE
            segment_id = self._last_id
        await asyncio.to_thread(_write_segment, self._path(segment_id), records)
        self._sealed = deque(sorted([*self._sealed, segment_id]))

    async def sync(self) -> None:
        """Make every append so far durable (flush, then fsync in a thread)."""
        if self._dirty and self._active_file is not None and self._active_id is not None:
            self._active_file.flush()
            self._unsynced.add(self._path(self._active_id))
        self._dirty = False
        if not self._unsynced:
            return
        paths, self._unsynced = list(self._unsynced), set()
        await asyncio.to_thread(_fsync, paths, self._directory)

    async def close(self) -> None:
        """Sync and close; an active segment stays on disk as a sealed one for the next run."""
        await self.sync()
        self._seal_active()

    def _open_active(self) -> None:
        self._last_id += SEGMENT_ID_STRIDE
        self._active_id = self._last_id
        # Append mode and buffered: a spill costs a memcpy, the kernel write happens when the buffer fills.
        self._active_file = open_private(self._path(self._active_id))
        self._active_since = time.monotonic()

    def _seal_active(self) -> None:
        if self._active_id is None:
            return
        segment_id = self._active_id
        self._close_active()
        self._sealed.append(segment_id)

    def _close_active(self) -> None:
        if self._active_file is not None and self._active_id is not None:
            self._active_file.close()
            self._unsynced.add(self._path(self._active_id))
        self._active_file = None
        self._active_id = None
        self._active_records = []

    def _path(self, segment_id: int) -> Path:
        return self._directory / f"{segment_id:0{_SEGMENT_ID_DIGITS}d}{SEGMENT_SUFFIX}"


def _read_segment(path: Path) -> tuple[SinkRecord, ...]:
    lines = path.read_bytes().split(b"\n")
    records: list[SinkRecord] = []
    for index, line in enumerate(lines):
        if not line:
            continue
        try:
            records.append(decode_record(line))
        except JournalCorruptError:
            torn = index == len(lines) - 1  # no newline after it: the write was cut short by a crash
            logger.error("journal %s: skipping %s line %d", path, "torn last" if torn else "corrupt", index + 1)
    return tuple(records)


def _write_segment(path: Path, records: list[SinkRecord]) -> None:
    tmp = path.with_suffix(".tmp")
    with open_private(tmp, truncate=True) as file:
        file.writelines(encode_record(record) for record in records)
        file.flush()
        os.fsync(file.fileno())
    tmp.replace(path)  # the segment appears complete or not at all
    _fsync([], path.parent)


def _fsync(paths: list[Path], directory: Path) -> None:
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue  # delivered and deleted meanwhile
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # new and renamed segment names survive a machine crash too
    finally:
        os.close(dir_fd)
