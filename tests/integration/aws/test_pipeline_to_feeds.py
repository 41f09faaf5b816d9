"""The whole path: video through the real embedded Triton into real (moto) Kinesis, SQS and S3 feeds.

The run's JSON Lines sink records what the pipeline produced; each feed must hold exactly those events,
event for event, first copies in per-camera order.
"""

from dataclasses import replace
from pathlib import Path

import pytest
from aws_feeds import client, compare, read_kinesis, read_s3_objects, read_sqs, s3_arrived, unique
from restartable_moto import RestartableMotoServer

from orchestrator.config.run_config import Mode
from orchestrator.paths import MEDIA_DIR
from orchestrator.sinks.record import SinkRecord
from orchestrator.sources.spec import parse_source
from tests.pipeline_run import run_and_read, session_config

pytestmark = [pytest.mark.integration, pytest.mark.aws, pytest.mark.timeout(600)]


async def test_feeds_hold_what_the_pipeline_produced(
    moto: RestartableMotoServer, grpc_url: str, tmp_path: Path
) -> None:
    stream, bucket, queue = unique("events"), unique("archive"), unique("events") + ".fifo"
    async with client("kinesis", moto.url) as kinesis:
        await kinesis.create_stream(StreamName=stream, ShardCount=2)
    async with client("s3", moto.url) as s3:
        await s3.create_bucket(Bucket=bucket)
    async with client("sqs", moto.url) as sqs:
        queue_url = (await sqs.create_queue(QueueName=queue, Attributes={"FifoQueue": "true"}))["QueueUrl"]

    cameras = (
        parse_source(str(MEDIA_DIR / "vtest.avi"), "campus"),
        parse_source(str(MEDIA_DIR / "sports2d_demo.mp4"), "rooftop"),
    )
    config = session_config(tmp_path, cameras, grpc_url, Mode.OFFLINE, max_frames=25)
    jsonl = config.sinks[0]
    config = replace(config, sinks=(
        jsonl,
        f"kinesis://{stream}?endpoint_url={moto.url}",
        f"s3://{bucket}/match?endpoint_url={moto.url}&gzip=true",
        f"sqs://{queue}?endpoint_url={moto.url}",
    ))  # fmt: skip
    summary, events = await run_and_read(config)

    produced = [
        SinkRecord(e["event_id"], e["stream_id"], e["frame_seq"], line.encode())
        for e, line in zip(events, Path(jsonl.removeprefix("jsonl:")).read_text().splitlines(), strict=True)
    ]
    assert len([e for e in events if e["type"] == "detections"]) == 50
    assert sum(len(e["detections"]) for e in events if e["type"] == "detections") > 50

    feeds = {
        "kinesis": await read_kinesis(moto.url, stream),
        "s3": s3_arrived(await read_s3_objects(moto.url, bucket, "match/")),
        "sqs": await read_sqs(moto.url, queue_url),
    }
    for name, arrived in feeds.items():
        comparison = compare(produced, arrived)
        assert comparison.lossless, (name, comparison)
        assert comparison.duplicates == 0, (name, comparison.duplicates)
    assert len(summary.sinks) == 4
    for sink in summary.sinks:
        assert (sink.delivered, sink.journaled, sink.dead_lettered) == (len(produced), 0, 0), sink
