"""Local sinks through the same delivery machinery: a JSON Lines file and standard output."""

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import BinaryIO, TextIO

from orchestrator.sinks.base import BatchLimits, DeliveryOutcome
from orchestrator.sinks.errors import SinkUnavailableError
from orchestrator.sinks.record import SinkRecord
from orchestrator.sinks.uri import JsonlSinkConfig, StdoutSinkConfig

# One write per batch: large enough to amortise the thread hop, small enough to keep latency low.
LOCAL_MAX_RECORDS = 1_000
LOCAL_MAX_BYTES = 4 * 1024 * 1024
_LOCAL_LIMITS = BatchLimits(LOCAL_MAX_RECORDS, LOCAL_MAX_BYTES)


class JsonlSink:
    """Appends one line per event (the payload) to a file; the file is fsynced when the sink closes."""

    def __init__(self, file: BinaryIO, config: JsonlSinkConfig) -> None:
        self._file = file
        self._config = config

    @classmethod
    @asynccontextmanager
    async def open(cls, config: JsonlSinkConfig) -> AsyncIterator["JsonlSink"]:
        file = await asyncio.to_thread(_open_append, config)
        try:
            yield cls(file, config)
        finally:
            await asyncio.to_thread(_sync_and_close, file)

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def limits(self) -> BatchLimits:
        return _LOCAL_LIMITS

    def record_size(self, record: SinkRecord) -> int:
        return len(record.payload) + 1

    async def deliver(self, batch: Sequence[SinkRecord]) -> DeliveryOutcome:
        try:
            await asyncio.to_thread(self._write, batch)
        except OSError as exc:
            raise SinkUnavailableError(f"write {self._config.path}: {exc}") from exc
        return DeliveryOutcome()

    def _write(self, batch: Sequence[SinkRecord]) -> None:
        self._file.write(b"".join(r.payload + b"\n" for r in batch))
        self._file.flush()


class StdoutSink:
    """Prints one line per event (the payload) to a text stream, standard output by default."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    @classmethod
    @asynccontextmanager
    async def open(cls, config: StdoutSinkConfig) -> AsyncIterator["StdoutSink"]:
        yield cls()

    @property
    def name(self) -> str:
        return StdoutSinkConfig().name

    @property
    def limits(self) -> BatchLimits:
        return _LOCAL_LIMITS

    def record_size(self, record: SinkRecord) -> int:
        return len(record.payload) + 1

    async def deliver(self, batch: Sequence[SinkRecord]) -> DeliveryOutcome:
        # A full pipe blocks the write: keep it off the event loop.
        await asyncio.to_thread(self._write, batch)
        return DeliveryOutcome()

    def _write(self, batch: Sequence[SinkRecord]) -> None:
        stream = self._stream or sys.stdout  # resolved late so that a redirected stdout is honoured
        stream.write("".join(r.payload.decode("utf-8", errors="replace") + "\n" for r in batch))
        stream.flush()


def _open_append(config: JsonlSinkConfig) -> BinaryIO:
    config.path.parent.mkdir(parents=True, exist_ok=True)
    return config.path.open("ab")


def _sync_and_close(file: BinaryIO) -> None:
    try:
        file.flush()
        os.fsync(file.fileno())
    finally:
        file.close()
