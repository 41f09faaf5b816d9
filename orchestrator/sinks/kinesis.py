"""Kinesis Data Streams sink: PutRecords within the API limits, partition key = stream_id."""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aioboto3

from orchestrator.sinks.aws import aws_client, call_aws, check_feed_exists
from orchestrator.sinks.base import BatchLimits, DeliveryOutcome, Rejection
from orchestrator.sinks.record import SinkRecord
from orchestrator.sinks.uri import KinesisSinkConfig

# PutRecords limits (Kinesis API reference): records per call, bytes per call and per record (data + key).
KINESIS_MAX_RECORDS = 500
KINESIS_MAX_CALL_BYTES = 5 * 1024 * 1024
KINESIS_MAX_RECORD_BYTES = 1024 * 1024
KINESIS_MAX_PARTITION_KEY_CHARS = 256
THROUGHPUT_EXCEEDED = "ProvisionedThroughputExceededException"


class KinesisSink:
    """Puts each record on ``config.stream`` with ``PartitionKey=stream_id``: one camera, one shard, in order.

    A partial failure comes back as ``retry`` holding only the records that failed; a record over 1 MiB (data plus
    partition key) or with an unusable partition key is rejected before the call.
    """

    def __init__(self, client: Any, config: KinesisSinkConfig) -> None:
        self._client = client
        self._config = config
        self._limits = BatchLimits(KINESIS_MAX_RECORDS, KINESIS_MAX_CALL_BYTES)

    @classmethod
    @asynccontextmanager
    async def open(cls, config: KinesisSinkConfig, session: aioboto3.Session) -> AsyncIterator["KinesisSink"]:
        """The sink with its own client, once the stream is known to exist (FeedNotFoundError otherwise); an
        unreachable endpoint does not fail startup."""
        async with aws_client(session, "kinesis", config.aws) as client:
            await check_feed_exists(
                client.describe_stream_summary(StreamName=config.stream), f"Kinesis stream {config.stream!r}"
            )
            yield cls(client, config)

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def limits(self) -> BatchLimits:
        return self._limits

    def record_size(self, record: SinkRecord) -> int:
        return len(record.payload) + len(record.stream_id.encode("utf-8"))

    async def deliver(self, batch: Sequence[SinkRecord]) -> DeliveryOutcome:
        rejected = tuple(Rejection(r, reason) for r in batch if (reason := self._reject_reason(r)))
        refused = {id(r.record) for r in rejected}
        sendable = [r for r in batch if id(r) not in refused]
        if not sendable:
            return DeliveryOutcome(rejected=rejected)
        response = await call_aws(
            self._client.put_records(
                StreamName=self._config.stream,
                Records=[{"Data": r.payload, "PartitionKey": r.stream_id} for r in sendable],
            ),
            f"PutRecords {self._config.stream}",
        )
        results: list[dict[str, Any]] = response["Records"]
        failed = [(r, res) for r, res in zip(sendable, results, strict=True) if res.get("ErrorCode")]
        if not failed:
            return DeliveryOutcome(rejected=rejected)
        first_error = failed[0][1]
        return DeliveryOutcome(
            retry=tuple(r for r, _ in failed),
            rejected=rejected,
            retry_reason=f"{len(failed)} record(s) failed: {first_error['ErrorCode']}: "
            f"{first_error.get('ErrorMessage', '')}",
            throttled=any(res["ErrorCode"] == THROUGHPUT_EXCEEDED for _, res in failed),
        )

    def _reject_reason(self, record: SinkRecord) -> str | None:
        size = self.record_size(record)
        if size > KINESIS_MAX_RECORD_BYTES:
            return (
                f"record is {size} bytes (data + partition key); Kinesis accepts at most "
                f"{KINESIS_MAX_RECORD_BYTES} bytes per record"
            )
        if not 1 <= len(record.stream_id) <= KINESIS_MAX_PARTITION_KEY_CHARS:
            return f"stream_id must be 1..{KINESIS_MAX_PARTITION_KEY_CHARS} characters to be a partition key"
        return None
