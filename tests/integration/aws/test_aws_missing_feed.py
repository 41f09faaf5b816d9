"""A feed that does not exist is a start-up error; one that is only unreachable is an outage to ride out."""

import subprocess
import sys
from pathlib import Path

import pytest
from aws_feeds import client, produce, unique
from prometheus_client import CollectorRegistry
from restartable_moto import RestartableMotoServer

from orchestrator.sinks import DeliverySettings, SinkFanout
from orchestrator.sinks.errors import FeedNotFoundError

pytestmark = pytest.mark.aws


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("kinesis://{name}", "Kinesis stream '{name}' does not exist (ResourceNotFoundException"),
        ("sqs://{name}", "SQS queue '{name}' does not exist"),
        ("sqs://{name}.fifo", "SQS queue '{name}.fifo' does not exist"),
        ("s3://{name}/events", "S3 bucket '{name}' does not exist"),
    ],
)
async def test_opening_a_sink_whose_feed_does_not_exist_fails(
    moto: RestartableMotoServer, delivery_settings: DeliverySettings, uri: str, message: str
) -> None:
    name = unique("missing")
    fanout = SinkFanout.from_uris([f"{uri.format(name=name)}?endpoint_url={moto.url}"], delivery_settings,
                                  registry=CollectorRegistry())  # fmt: skip
    with pytest.raises(FeedNotFoundError, match=message.format(name=name).replace("(", r"\(")):
        async with fanout:
            pass


async def test_a_queue_given_by_url_is_checked_too(
    moto: RestartableMotoServer, delivery_settings: DeliverySettings
) -> None:
    url = f"{moto.url}/123456789012/{unique('missing')}"
    with pytest.raises(FeedNotFoundError, match="does not exist"):
        async with SinkFanout.from_uris(
            [f"sqs://{url}?endpoint_url={moto.url}"], delivery_settings, registry=CollectorRegistry()
        ):
            pass


async def test_existing_feeds_open_and_an_unreachable_endpoint_is_not_a_start_up_error(
    moto: RestartableMotoServer, delivery_settings: DeliverySettings, tmp_path: Path
) -> None:
    stream = unique("events")
    async with client("kinesis", moto.url) as kinesis:
        await kinesis.create_stream(StreamName=stream, ShardCount=1)
    fanout = SinkFanout.from_uris([f"kinesis://{stream}?endpoint_url={moto.url}"], delivery_settings,
                                  registry=CollectorRegistry())  # fmt: skip
    async with fanout:
        for record in produce(3):
            fanout.submit(record)
    assert fanout.stats()[0].delivered == 3

    moto.stop()
    down = SinkFanout.from_uris([f"kinesis://{stream}?endpoint_url={moto.url}"], delivery_settings,
                                registry=CollectorRegistry())  # fmt: skip
    async with down:
        down.submit(produce(1)[0])
    assert down.stats()[0].journaled == 1, "the event waits in the journal for the feed to come back"


def test_run_with_a_missing_kinesis_stream_exits_1_naming_it(
    moto: RestartableMotoServer, grpc_url: str, tmp_path: Path
) -> None:
    name = unique("missing")
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "run", "--source", "synthetic:?frames=5&fps=50",
         "--sink", f"kinesis://{name}?endpoint_url={moto.url}", "--triton-url", grpc_url, "--metrics-port", "0"],
        capture_output=True, text=True, timeout=240, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr[-2000:]
    assert f"error: Kinesis stream '{name}' does not exist (ResourceNotFoundException" in result.stderr
    assert "delivered" not in result.stdout
