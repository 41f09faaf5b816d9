"""Building sinks from their configs: the one place that knows which class serves which URI scheme."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import aioboto3

from orchestrator.sinks.base import Sink
from orchestrator.sinks.kinesis import KinesisSink
from orchestrator.sinks.local import JsonlSink, StdoutSink
from orchestrator.sinks.s3 import S3Sink
from orchestrator.sinks.sqs import SqsSink
from orchestrator.sinks.uri import (
    JsonlSinkConfig,
    KinesisSinkConfig,
    S3SinkConfig,
    SinkConfig,
    SqsSinkConfig,
    StdoutSinkConfig,
)

SinkOpener = Callable[[], AbstractAsyncContextManager[Sink]]


def sink_opener(config: SinkConfig, session: Callable[[], aioboto3.Session]) -> SinkOpener:
    """A callable that opens the sink ``config`` names (its client lives as long as the returned context)."""
    match config:
        case StdoutSinkConfig():
            return lambda: StdoutSink.open(config)
        case JsonlSinkConfig():
            return lambda: JsonlSink.open(config)
        case KinesisSinkConfig():
            return lambda: KinesisSink.open(config, session())
        case SqsSinkConfig():
            return lambda: SqsSink.open(config, session())
        case S3SinkConfig():
            return lambda: S3Sink.open(config, session())
