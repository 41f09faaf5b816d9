"""Event delivery to downstream feeds: local files, Kinesis, SQS and S3, with one set of guarantees.

The pipeline builds a :class:`SinkFanout` from sink URIs at the edge, enters it, and calls
:meth:`SinkFanout.submit` with one :class:`SinkRecord` per event. See docs/SINKS.md for the guarantees.
"""

from orchestrator.sinks.errors import (
    BatchRejectedError,
    SinkClosedError,
    SinkConfigError,
    SinkError,
    SinkUnavailableError,
)
from orchestrator.sinks.fanout import SinkFanout
from orchestrator.sinks.metrics import SinkMetrics, SinkStats
from orchestrator.sinks.record import SinkRecord
from orchestrator.sinks.settings import DeliverySettings, Durability, RetryPolicy
from orchestrator.sinks.uri import SinkConfig, parse_sink_uri

__all__ = [
    "BatchRejectedError",
    "DeliverySettings",
    "Durability",
    "RetryPolicy",
    "SinkClosedError",
    "SinkConfig",
    "SinkConfigError",
    "SinkError",
    "SinkFanout",
    "SinkMetrics",
    "SinkRecord",
    "SinkStats",
    "SinkUnavailableError",
    "parse_sink_uri",
]
