import asyncio
import json
import re
from datetime import UTC, datetime

import pytest
from aws_feeds import STREAMS, client, compare, produce, read_s3_objects, s3_arrived, unique
from prometheus_client import CollectorRegistry
from restartable_moto import RestartableMotoServer

from orchestrator.sinks import DeliverySettings, SinkFanout, SinkRecord

pytestmark = pytest.mark.aws

_NAME = re.compile(r"^\d{9}-\d{12}-[A-Za-z0-9._-]+-[0-9a-f]{16}\.jsonl(\.gz)?$")


async def create_bucket(endpoint_url: str) -> str:
    name = unique("archive")
    async with client("s3", endpoint_url) as s3:
        await s3.create_bucket(Bucket=name)
    return name


async def run(
    uri: str, records: list[SinkRecord], settings: DeliverySettings, registry: CollectorRegistry
) -> SinkFanout:
    fanout = SinkFanout.from_uris([uri], settings, registry=registry)
    async with fanout:
        for record in records:
            fanout.submit(record)
    return fanout


@pytest.mark.parametrize("gzip", [False, True])
async def test_the_archive_holds_every_event_in_size_rotated_objects_keyed_by_day_and_camera(
    moto: RestartableMotoServer, delivery_settings: DeliverySettings, registry: CollectorRegistry, gzip: bool
) -> None:
    bucket = await create_bucket(moto.url)
    records = produce(900)
    max_bytes = 16_384
    uri = f"s3://{bucket}/events/v1?gzip={str(gzip).lower()}&max_bytes={max_bytes}&endpoint_url={moto.url}"
    fanout = await run(uri, records, delivery_settings, registry)

    objects = await read_s3_objects(moto.url, bucket, "events/v1/")
    comparison = compare(records, s3_arrived(objects))
    assert comparison.lossless and comparison.duplicates == 0, comparison
    assert len(objects) > 2 * len(STREAMS)  # rotated by size: several objects per camera
    day = datetime.fromtimestamp(records[0].emitted_at, tz=UTC).strftime("%Y-%m-%d")
    for obj in objects:
        top, version, obj_day, stream, name = obj.key.split("/")
        assert (top, version, obj_day) == ("events", "v1", day), obj.key
        assert stream in STREAMS and _NAME.match(name), obj.key
        assert {json.loads(line)["stream_id"] for line in obj.lines} == {stream}  # one camera per object
        assert sum(len(line) + 1 for line in obj.lines) <= max_bytes
        assert obj.content_type == ("application/gzip" if gzip else "application/x-ndjson")
        assert name.endswith(".jsonl.gz" if gzip else ".jsonl")
    assert fanout.stats()[0].delivered == 900


async def test_objects_are_also_rotated_by_age_while_the_pipeline_runs(
    moto: RestartableMotoServer, delivery_settings: DeliverySettings, registry: CollectorRegistry
) -> None:
    bucket = await create_bucket(moto.url)
    records = produce(30)
    fanout = SinkFanout.from_uris(
        [f"s3://{bucket}?max_age_s=0.2&endpoint_url={moto.url}"], delivery_settings, registry=registry
    )
    async with fanout:
        for record in records:
            fanout.submit(record)
        for _ in range(400):  # bounded wait: the objects must appear before shutdown flushes anything
            if fanout.stats()[0].delivered == 30:
                break
            await asyncio.sleep(0.01)
        assert fanout.stats()[0].delivered == 30
        objects = await read_s3_objects(moto.url, bucket)
    comparison = compare(records, s3_arrived(objects))
    assert comparison.lossless and comparison.duplicates == 0, comparison
