from pathlib import Path

import pytest

from orchestrator.sinks.errors import SinkConfigError
from orchestrator.sinks.uri import (
    DEFAULT_S3_MAX_AGE_S,
    DEFAULT_S3_MAX_BYTES,
    DEFAULT_SQS_MAX_MESSAGE_BYTES,
    AwsTarget,
    JsonlSinkConfig,
    KinesisSinkConfig,
    S3SinkConfig,
    SqsSinkConfig,
    StdoutSinkConfig,
    parse_sink_uri,
)


def test_local_uris_name_their_sinks() -> None:
    assert parse_sink_uri("stdout:") == StdoutSinkConfig()
    assert parse_sink_uri("jsonl:out/events.jsonl") == JsonlSinkConfig(Path("out/events.jsonl"))
    assert parse_sink_uri("jsonl:///var/x.jsonl") == JsonlSinkConfig(Path("/var/x.jsonl"))


def test_kinesis_uri_carries_region_and_endpoint_override() -> None:
    config = parse_sink_uri("kinesis://feed?region=eu-west-1&endpoint_url=http://127.0.0.1:5000")
    assert config == KinesisSinkConfig("feed", AwsTarget("eu-west-1", "http://127.0.0.1:5000"))
    assert config.name == "kinesis://feed"


def test_kinesis_uri_without_overrides_leaves_them_to_the_standard_chain() -> None:
    assert parse_sink_uri("kinesis://feed") == KinesisSinkConfig("feed", AwsTarget(None, None))


def test_sqs_uri_accepts_a_name_and_detects_fifo() -> None:
    config = parse_sink_uri("sqs://events.fifo?region=us-east-1")
    assert isinstance(config, SqsSinkConfig)
    assert (config.queue, config.fifo, config.is_url) == ("events.fifo", True, False)
    assert config.max_message_bytes == DEFAULT_SQS_MAX_MESSAGE_BYTES


def test_sqs_uri_accepts_a_queue_url_and_a_size_override() -> None:
    config = parse_sink_uri("sqs://https://sqs.eu-west-1.amazonaws.com/123456789012/feed?max_message_bytes=1048576")
    assert isinstance(config, SqsSinkConfig)
    assert config.queue == "https://sqs.eu-west-1.amazonaws.com/123456789012/feed"
    assert (config.is_url, config.fifo, config.max_message_bytes) == (True, False, 1_048_576)


def test_s3_uri_parses_rotation_and_gzip() -> None:
    config = parse_sink_uri("s3://archive/events/v1/?gzip=true&max_bytes=1000&max_age_s=2.5")
    assert config == S3SinkConfig("archive", "events/v1", True, 1000, 2.5, AwsTarget())
    assert config.name == "s3://archive/events/v1"


def test_s3_uri_defaults() -> None:
    assert parse_sink_uri("s3://archive") == S3SinkConfig(
        "archive", "", False, DEFAULT_S3_MAX_BYTES, DEFAULT_S3_MAX_AGE_S
    )


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("ftp://x", "unknown sink"),
        ("events.jsonl", "unknown sink"),
        ("jsonl:", "expected jsonl:PATH"),
        ("stdout:somewhere", "takes no path"),
        ("kinesis://", "valid stream name"),
        ("kinesis://feed/extra", "valid stream name"),
        ("kinesis://feed?regoin=eu-west-1", "unknown or repeated"),
        ("kinesis://feed?region=a&region=b", "unknown or repeated"),
        ("sqs://bad name", "expected sqs://"),
        ("sqs://q?max_message_bytes=10", "within 1 KiB"),
        ("sqs://q?max_message_bytes=lots", "must be an integer"),
        ("s3://B", "valid bucket name"),
        ("s3://bucket?gzip=maybe", "true or false"),
        ("s3://bucket?max_bytes=0", "must be positive"),
        ("s3://bucket?max_age_s=soon", "must be a number"),
    ],
)
def test_invalid_uris_are_refused_with_the_reason(uri: str, message: str) -> None:
    with pytest.raises(SinkConfigError, match=message):
        parse_sink_uri(uri)
