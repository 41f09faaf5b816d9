"""SQS sink: SendMessageBatch, 10 messages per call; FIFO queues keep each camera in order."""

import hashlib
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aioboto3

from orchestrator.sinks.aws import aws_client, call_aws, check_feed_exists
from orchestrator.sinks.base import BatchLimits, DeliveryOutcome, Rejection
from orchestrator.sinks.record import SinkRecord
from orchestrator.sinks.uri import SqsSinkConfig

SQS_MAX_BATCH_ENTRIES = 10
# Characters SQS accepts in a message body (SendMessage API reference).
_INVALID_BODY_CHARS = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# MessageGroupId / MessageDeduplicationId: 1..128 printable ASCII characters, no space.
_FIFO_ID = re.compile(r"^[!-~]{1,128}$")
_STRING = "String"


class SqsSink:
    """Sends each record as one message: body = payload, attributes ``event_id`` and ``stream_id``.

    On a FIFO queue ``MessageGroupId`` = ``stream_id`` (order per camera) and ``MessageDeduplicationId`` =
    ``event_id`` (SQS drops a retried duplicate within its 5-minute window); an id SQS cannot take verbatim is
    replaced by its SHA-256. Entries failed by the sender's fault are rejected (dead-lettered), others retried.
    """

    def __init__(self, client: Any, config: SqsSinkConfig) -> None:
        self._client = client
        self._config = config
        self._queue_url = config.queue if config.is_url else None
        self._limits = BatchLimits(SQS_MAX_BATCH_ENTRIES, config.max_message_bytes)

    @classmethod
    @asynccontextmanager
    async def open(cls, config: SqsSinkConfig, session: aioboto3.Session) -> AsyncIterator["SqsSink"]:
        """The sink with its own client, once the queue is known to exist (FeedNotFoundError otherwise); an
        unreachable endpoint does not fail startup (a queue name is then resolved on first delivery)."""
        async with aws_client(session, "sqs", config.aws) as client:
            probe = (
                client.get_queue_attributes(QueueUrl=config.queue, AttributeNames=["QueueArn"])
                if config.is_url
                else client.get_queue_url(QueueName=config.queue)
            )
            await check_feed_exists(probe, f"SQS queue {config.queue!r}")
            yield cls(client, config)

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def limits(self) -> BatchLimits:
        return self._limits

    def record_size(self, record: SinkRecord) -> int:
        attributes = sum(len(k) + len(_STRING) + len(v.encode("utf-8")) for k, v in _attributes(record))
        return len(record.payload) + attributes

    async def deliver(self, batch: Sequence[SinkRecord]) -> DeliveryOutcome:
        rejected = tuple(Rejection(r, reason) for r in batch if (reason := self._reject_reason(r)))
        refused = {id(r.record) for r in rejected}
        sendable = [r for r in batch if id(r) not in refused]
        if not sendable:
            return DeliveryOutcome(rejected=rejected)
        queue_url = await self._resolve_queue_url()
        response = await call_aws(
            self._client.send_message_batch(
                QueueUrl=queue_url, Entries=[self._entry(str(i), r) for i, r in enumerate(sendable)]
            ),
            f"SendMessageBatch {self._config.queue}",
        )
        failures: dict[int, dict[str, Any]] = {int(f["Id"]): f for f in response.get("Failed", [])}
        retry = tuple(r for i, r in enumerate(sendable) if i in failures and not failures[i].get("SenderFault"))
        refused_by_sqs = tuple(
            Rejection(r, f"SQS refused the message: {failures[i].get('Code')}: {failures[i].get('Message', '')}")
            for i, r in enumerate(sendable)
            if i in failures and failures[i].get("SenderFault")
        )
        reason = next((f"{f.get('Code')}: {f.get('Message', '')}" for f in failures.values()), "")
        return DeliveryOutcome(retry=retry, rejected=rejected + refused_by_sqs, retry_reason=reason)

    async def _resolve_queue_url(self) -> str:
        if self._queue_url is None:
            response = await call_aws(
                self._client.get_queue_url(QueueName=self._config.queue), f"GetQueueUrl {self._config.queue}"
            )
            self._queue_url = str(response["QueueUrl"])
        return self._queue_url

    def _entry(self, entry_id: str, record: SinkRecord) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "Id": entry_id,
            "MessageBody": record.payload.decode("utf-8"),
            "MessageAttributes": {k: {"DataType": _STRING, "StringValue": v} for k, v in _attributes(record)},
        }
        if self._config.fifo:
            entry["MessageGroupId"] = _fifo_id(record.stream_id)
            entry["MessageDeduplicationId"] = _fifo_id(record.event_id)
        return entry

    def _reject_reason(self, record: SinkRecord) -> str | None:
        size = self.record_size(record)
        if size > self._config.max_message_bytes:
            return (
                f"message is {size} bytes (body + attributes); the queue accepts at most "
                f"{self._config.max_message_bytes} bytes per message"
            )
        try:
            body = record.payload.decode("utf-8")
        except UnicodeDecodeError:
            return "payload is not UTF-8; an SQS message body must be text"
        if match := _INVALID_BODY_CHARS.search(body):
            return f"payload holds a character SQS does not allow in a message body: {match.group()!r}"
        return None


def _attributes(record: SinkRecord) -> tuple[tuple[str, str], ...]:
    return (("event_id", record.event_id), ("stream_id", record.stream_id))


def _fifo_id(value: str) -> str:
    return value if _FIFO_ID.match(value) else hashlib.sha256(value.encode("utf-8")).hexdigest()
