"""S3 archive sink: events as JSON Lines objects, one object per camera and day per batch, written once."""

import asyncio
import gzip
import hashlib
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aioboto3

from orchestrator.sinks.aws import aws_client, call_aws, check_feed_exists
from orchestrator.sinks.base import BatchLimits, DeliveryOutcome, Rejection
from orchestrator.sinks.errors import BatchRejectedError, SinkError
from orchestrator.sinks.record import SinkRecord
from orchestrator.sinks.uri import S3SinkConfig

# Objects are rotated by bytes and age (the batch limits); the record count only bounds memory per object.
S3_MAX_RECORDS_PER_OBJECT = 1_000_000
S3_MAX_CONCURRENT_PUTS = 8
JSONL_CONTENT_TYPE = "application/x-ndjson"
GZIP_CONTENT_TYPE = "application/gzip"
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_DIGEST_CHARS = 16


class S3Sink:
    """Archives each batch as one object per (UTC day, stream_id), keyed
    ``PREFIX/YYYY-MM-DD/STREAM/HHMMSSmmm-FRAMESEQ-EVENTID-DIGEST.jsonl[.gz]`` from its first event.

    A day of one camera is one ``ListObjectsV2`` prefix; keys sort by time within it. Each object is one
    ``PutObject`` of a complete body, and the key ends with a digest of that body, so a retry rewrites the same
    bytes under the same key and no object is ever replaced by different content. The delivery channel rotates
    objects: a batch closes at ``max_bytes`` or ``max_age_s`` after its first event arrived.
    """

    def __init__(self, client: Any, config: S3SinkConfig) -> None:
        self._client = client
        self._config = config
        self._limits = BatchLimits(S3_MAX_RECORDS_PER_OBJECT, config.max_bytes, config.max_age_s)
        self._puts = asyncio.Semaphore(S3_MAX_CONCURRENT_PUTS)

    @classmethod
    @asynccontextmanager
    async def open(cls, config: S3SinkConfig, session: aioboto3.Session) -> AsyncIterator["S3Sink"]:
        """The sink with its own client, once the bucket is known to exist (FeedNotFoundError otherwise)."""
        async with aws_client(session, "s3", config.aws) as client:
            await check_feed_exists(client.head_bucket(Bucket=config.bucket), f"S3 bucket {config.bucket!r}")
            yield cls(client, config)

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def limits(self) -> BatchLimits:
        return self._limits

    def record_size(self, record: SinkRecord) -> int:
        return len(record.payload) + 1  # the newline

    async def deliver(self, batch: Sequence[SinkRecord]) -> DeliveryOutcome:
        groups = group_by_day_and_stream(batch)
        results = await asyncio.gather(*(self._put(group) for group in groups), return_exceptions=True)
        failed: set[int] = set()
        rejected: list[Rejection] = []
        reasons: list[str] = []
        for group, result in zip(groups, results, strict=True):
            if isinstance(result, BatchRejectedError):
                rejected.extend(Rejection(r, f"S3 refused the object: {result}") for r in group)
            elif isinstance(result, SinkError):
                failed.update(id(r) for r in group)
                reasons.append(str(result))
            elif isinstance(result, BaseException):
                raise result
        return DeliveryOutcome(
            retry=tuple(r for r in batch if id(r) in failed),
            rejected=tuple(rejected),
            retry_reason="; ".join(reasons[:3]),
            throttled=any("SlowDown" in reason for reason in reasons),
        )

    async def _put(self, group: list[SinkRecord]) -> None:
        body = b"".join(r.payload + b"\n" for r in group)
        if self._config.gzip:
            # mtime=0: the same events always compress to the same bytes, hence the same key.
            body = await asyncio.to_thread(gzip.compress, body, mtime=0)
        key = object_key(self._config, group[0], body)
        async with self._puts:
            await call_aws(
                self._client.put_object(
                    Bucket=self._config.bucket,
                    Key=key,
                    Body=body,
                    ContentType=GZIP_CONTENT_TYPE if self._config.gzip else JSONL_CONTENT_TYPE,
                    Metadata={"events": str(len(group)), "stream-id": _safe(group[0].stream_id)},
                ),
                f"PutObject s3://{self._config.bucket}/{key}",
            )


def group_by_day_and_stream(batch: Sequence[SinkRecord]) -> list[list[SinkRecord]]:
    """``batch`` split by (UTC day of ``emitted_at``, ``stream_id``), each group in batch order."""
    groups: dict[tuple[str, str], list[SinkRecord]] = {}
    for record in batch:
        groups.setdefault((_day(record), record.stream_id), []).append(record)
    return list(groups.values())


def object_key(config: S3SinkConfig, first: SinkRecord, body: bytes) -> str:
    """The key of the object whose first event is ``first`` and whose content is ``body``."""
    at = datetime.fromtimestamp(first.emitted_at, tz=UTC)
    digest = hashlib.sha256(body).hexdigest()[:_DIGEST_CHARS]
    name = (
        f"{at:%H%M%S}{at.microsecond // 1000:03d}-{first.frame_seq:012d}-{_safe(first.event_id)}-{digest}"
        f".jsonl{'.gz' if config.gzip else ''}"
    )
    parts = [config.prefix, f"{at:%Y-%m-%d}", _safe(first.stream_id), name]
    return "/".join(part for part in parts if part)


def _day(record: SinkRecord) -> str:
    return f"{datetime.fromtimestamp(record.emitted_at, tz=UTC):%Y-%m-%d}"


def _safe(value: str) -> str:
    return _KEY_UNSAFE.sub("_", value)[:128] or "_"
