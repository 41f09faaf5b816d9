"""Where records go that a feed can never accept: one JSON line each, with the sink and the reason."""

import asyncio
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from orchestrator.sinks.base import Rejection
from orchestrator.sinks.private_file import open_private
from orchestrator.sinks.record import record_to_json


class DeadLetterFile:
    """An append-only JSON Lines file shared by every sink of a fan-out.

    Each line holds the record (as in the journal) plus ``sink``, ``reason`` and ``dead_lettered_at``. Writes are
    serialised by a lock and fsynced: dead letters are rare and are the only copy of the event. The file is 0600.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = asyncio.Lock()

    @property
    def path(self) -> Path:
        return self._path

    async def write(self, sink: str, rejections: Sequence[Rejection]) -> None:
        if not rejections:
            return
        now = time.time()
        lines = [
            json.dumps(
                {"sink": sink, "reason": r.reason, "dead_lettered_at": now, **record_to_json(r.record)},
                separators=(",", ":"),
            ).encode("utf-8")
            + b"\n"
            for r in rejections
        ]
        async with self._lock:
            await asyncio.to_thread(self._append, lines)

    def _append(self, lines: list[bytes]) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with open_private(self._path) as file:
            file.writelines(lines)
            file.flush()
            os.fsync(file.fileno())
