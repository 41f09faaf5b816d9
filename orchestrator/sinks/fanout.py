"""The seam the pipeline uses: one ``submit`` per event, delivered to every configured sink independently."""

import asyncio
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType
from typing import Self

import aioboto3
from prometheus_client import CollectorRegistry

from orchestrator.sinks.dead_letter import DeadLetterFile
from orchestrator.sinks.delivery import DeliveryChannel
from orchestrator.sinks.errors import SinkClosedError, SinkConfigError
from orchestrator.sinks.factory import SinkOpener, sink_opener
from orchestrator.sinks.journal import Journal
from orchestrator.sinks.metrics import SinkMetrics, SinkStats
from orchestrator.sinks.record import SinkRecord
from orchestrator.sinks.settings import DeliverySettings, Durability
from orchestrator.sinks.uri import SinkConfig, parse_sink_uri

logger = logging.getLogger(__name__)

_DIR_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class SinkFanout:
    """Delivers every submitted event to every sink, each through its own :class:`DeliveryChannel`.

    Usage::

        fanout = SinkFanout.from_uris(["jsonl:out/events.jsonl", "kinesis://feed"], DeliverySettings())
        async with fanout:
            fanout.submit(record)       # per event; never awaits, never blocks on a feed
        # leaving the block flushed every sink, or journaled what it could not deliver in time

    Sinks are isolated: each has its own buffer, journal, retries and worker task, so a slow or dead sink delays
    only its own events. Leaving the block closes all sinks concurrently, each bounded by ``flush_timeout_s``.
    A restarted fan-out with the same ``journal_dir`` first replays what the previous run journaled.
    """

    def __init__(
        self,
        openers: Sequence[SinkOpener],
        settings: DeliverySettings,
        metrics: SinkMetrics,
        dead_letters: DeadLetterFile,
    ) -> None:
        self._openers = list(openers)
        self._settings = settings
        self._metrics = metrics
        self._dead_letters = dead_letters
        self._channels: list[DeliveryChannel] = []
        self._stack: AsyncExitStack | None = None

    @classmethod
    def from_uris(
        cls,
        uris: Sequence[str],
        settings: DeliverySettings | None = None,
        *,
        registry: CollectorRegistry | None = None,
        session: aioboto3.Session | None = None,
    ) -> Self:
        """A fan-out to the sinks ``uris`` name (see :mod:`orchestrator.sinks.uri`); raises
        :class:`SinkConfigError` for a bad or repeated URI before anything is opened. Metrics go to ``registry``
        (default: the global one); AWS clients come from ``session`` (default: a new standard-chain session)."""
        return cls.from_configs([parse_sink_uri(uri) for uri in uris], settings, registry=registry, session=session)

    @classmethod
    def from_configs(
        cls,
        configs: Sequence[SinkConfig],
        settings: DeliverySettings | None = None,
        *,
        registry: CollectorRegistry | None = None,
        session: aioboto3.Session | None = None,
    ) -> Self:
        names = [config.name for config in configs]
        if len(set(names)) != len(names):
            raise SinkConfigError(f"a sink is configured twice: {names}")
        settings = settings or DeliverySettings()
        get_session = _lazy_session(session)  # one session for all AWS sinks, created only if one is configured
        openers = [sink_opener(config, get_session) for config in configs]
        return cls(openers, settings, SinkMetrics.on(registry), DeadLetterFile(settings.dead_letter_path))

    @property
    def sinks(self) -> tuple[str, ...]:
        return tuple(channel.name for channel in self._channels)

    async def __aenter__(self) -> Self:
        async with AsyncExitStack() as stack:
            channels = [await self._open_channel(stack, opener) for opener in self._openers]
            for channel in channels:
                channel.start()
            self._channels, self._stack = channels, stack.pop_all()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        stack, self._stack = self._stack, None
        try:
            results = await asyncio.gather(*(c.close() for c in self._channels), return_exceptions=True)
            for channel, result in zip(self._channels, results, strict=True):
                if isinstance(result, Exception):
                    logger.error("sink %s: close failed", channel.name, exc_info=result)
        finally:
            if stack is not None:
                await stack.aclose()

    def submit(self, record: SinkRecord) -> None:
        """Hand ``record`` to every sink. Never awaits and never waits on a feed (see
        :meth:`DeliveryChannel.submit`). Raises :class:`SinkClosedError` outside ``async with``."""
        if self._stack is None:
            raise SinkClosedError("SinkFanout.submit called outside 'async with'")
        for channel in self._channels:
            try:
                channel.submit(record)
            except Exception:  # one sink's failure must not reach inference or the other sinks
                logger.exception("sink %s: could not take event %s", channel.name, record.event_id)

    def stats(self) -> tuple[SinkStats, ...]:
        return tuple(channel.stats() for channel in self._channels)

    async def _open_channel(self, stack: AsyncExitStack, opener: SinkOpener) -> DeliveryChannel:
        sink = await stack.enter_async_context(opener())
        directory = journal_directory(self._settings.journal_dir, sink.name)
        journal = await asyncio.to_thread(
            Journal.open,
            directory,
            segment_records=self._settings.segment_records,
            write_through=self._settings.durability is Durability.WRITE_AHEAD,
        )
        channel = DeliveryChannel(sink, journal, self._dead_letters, self._metrics, self._settings)
        self._metrics.watch(channel)
        return channel


def journal_directory(root: Path, sink_name: str) -> Path:
    """A stable, filesystem-safe directory for one sink's journal (same sink URI, same directory)."""
    readable = _DIR_UNSAFE.sub("_", sink_name).strip("_")[:64]
    return root / f"{readable}-{hashlib.sha256(sink_name.encode()).hexdigest()[:8]}"


def _lazy_session(session: aioboto3.Session | None) -> Callable[[], aioboto3.Session]:
    holder: list[aioboto3.Session] = [session] if session is not None else []

    def get() -> aioboto3.Session:
        if not holder:
            holder.append(aioboto3.Session())
        return holder[0]

    return get
