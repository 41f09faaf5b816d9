"""Producing events and reading back what a feed holds, straight from moto, for end-to-end comparisons."""

import gzip
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aioboto3

from orchestrator.sinks.record import SinkRecord

STREAMS = ("cam-north", "cam-south", "cam-east")


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}"


def produce(count: int, *, start: int = 0, streams: Sequence[str] = STREAMS) -> list[SinkRecord]:
    """``count`` detection events round-robin over ``streams``, frame_seq increasing per stream."""
    records = []
    for i in range(start, start + count):
        stream = streams[i % len(streams)]
        frame_seq = i // len(streams)
        event_id = f"{stream}:{frame_seq:06d}"
        payload = {
            "event_id": event_id,
            "stream_id": stream,
            "frame_seq": frame_seq,
            "detections": [{"label": "person", "score": 0.91, "box": [12.5, 40.0, 88.25, 210.0]}],
        }
        records.append(SinkRecord(event_id, stream, frame_seq, json.dumps(payload, separators=(",", ":")).encode()))
    return records


@dataclass(frozen=True)
class Arrived:
    """What a feed holds, per stream, in the feed's order; each item is the event's payload as delivered."""

    by_stream: dict[str, list[bytes]]

    def event_ids(self, stream: str) -> list[str]:
        return [json.loads(p)["event_id"] for p in self.by_stream.get(stream, [])]


@dataclass(frozen=True)
class Comparison:
    duplicates: int
    missing: list[str]
    unexpected: list[str]
    out_of_order: list[str]
    changed: list[str]

    @property
    def lossless(self) -> bool:
        return not (self.missing or self.unexpected or self.out_of_order or self.changed)


def compare(produced: Sequence[SinkRecord], arrived: Arrived) -> Comparison:
    """Event-for-event comparison per stream: first copies in produced order, every extra copy identical."""
    expected: dict[str, list[SinkRecord]] = defaultdict(list)
    for record in produced:
        expected[record.stream_id].append(record)
    payloads = {r.event_id: r.payload for r in produced}
    duplicates, missing, unexpected, out_of_order, changed = 0, [], [], [], []
    for stream in set(expected) | set(arrived.by_stream):
        got = arrived.by_stream.get(stream, [])
        ids = [json.loads(p)["event_id"] for p in got]
        counts = Counter(ids)
        duplicates += sum(n - 1 for n in counts.values())
        unexpected += [i for i in counts if i not in payloads]
        changed += [i for i, p in zip(ids, got, strict=True) if i in payloads and p != payloads[i]]
        want = [r.event_id for r in expected.get(stream, [])]
        missing += [i for i in want if i not in counts]
        first_copies = list(dict.fromkeys(ids))
        if first_copies != [i for i in want if i in counts]:
            out_of_order.append(stream)
    return Comparison(duplicates, missing, unexpected, out_of_order, changed)


@asynccontextmanager
async def client(service: str, endpoint_url: str) -> AsyncIterator[Any]:
    async with aioboto3.Session().client(service, endpoint_url=endpoint_url) as c:
        yield c


async def read_kinesis(endpoint_url: str, stream: str) -> Arrived:
    """Every record on every shard of ``stream``, in sequence order, grouped by partition key."""
    by_stream: dict[str, list[bytes]] = defaultdict(list)
    async with client("kinesis", endpoint_url) as kinesis:
        shards = (await kinesis.list_shards(StreamName=stream))["Shards"]
        for shard in shards:
            iterator = (
                await kinesis.get_shard_iterator(
                    StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                )
            )["ShardIterator"]
            while iterator:
                page = await kinesis.get_records(ShardIterator=iterator, Limit=10_000)
                if not page["Records"]:
                    break
                for record in page["Records"]:
                    by_stream[record["PartitionKey"]].append(record["Data"])
                iterator = page.get("NextShardIterator")
    return Arrived(dict(by_stream))


async def read_sqs(endpoint_url: str, queue_url: str) -> Arrived:
    """Every message on the queue, in receive order, grouped by the ``stream_id`` attribute (deleted as read)."""
    by_stream: dict[str, list[bytes]] = defaultdict(list)
    async with client("sqs", endpoint_url) as sqs:
        for _ in range(100_000):
            page = await sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0,
                MessageAttributeNames=["All"],
                VisibilityTimeout=300,
            )
            messages = page.get("Messages", [])
            if not messages:
                break
            for message in messages:
                stream = message["MessageAttributes"]["stream_id"]["StringValue"]
                by_stream[stream].append(message["Body"].encode())
            await sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
    return Arrived(dict(by_stream))


@dataclass(frozen=True)
class S3Object:
    key: str
    lines: list[bytes]
    stored_bytes: int
    content_type: str


async def read_s3_objects(endpoint_url: str, bucket: str, prefix: str = "") -> list[S3Object]:
    objects = []
    async with client("s3", endpoint_url) as s3:
        paginator = s3.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                response = await s3.get_object(Bucket=bucket, Key=item["Key"])
                body = await response["Body"].read()
                text = gzip.decompress(body) if item["Key"].endswith(".gz") else body
                objects.append(S3Object(item["Key"], text.splitlines(), len(body), response["ContentType"]))
    return objects


def s3_arrived(objects: Sequence[S3Object]) -> Arrived:
    """Events per stream in key order (keys sort by time within a camera's day)."""
    by_stream: dict[str, list[bytes]] = defaultdict(list)
    for obj in sorted(objects, key=lambda o: o.key):
        for line in obj.lines:
            by_stream[json.loads(line)["stream_id"]].append(line)
    return Arrived(dict(by_stream))
