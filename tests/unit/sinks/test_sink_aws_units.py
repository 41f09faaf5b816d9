"""Unit tests of the AWS sinks' own logic with a stand-in client; the moto integration tests cover the wire."""

import gzip
from collections.abc import Sequence
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from sink_fakes import make_records

from orchestrator.sinks.aws import call_aws
from orchestrator.sinks.errors import BatchRejectedError, SinkUnavailableError
from orchestrator.sinks.kinesis import KINESIS_MAX_RECORD_BYTES, KinesisSink
from orchestrator.sinks.record import SinkRecord
from orchestrator.sinks.s3 import S3Sink, group_by_day_and_stream, object_key
from orchestrator.sinks.sqs import SqsSink
from orchestrator.sinks.uri import KinesisSinkConfig, S3SinkConfig, SqsSinkConfig


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "msg"}}, "Op")


class RecordingClient:
    def __init__(self, response: dict[str, Any]) -> None:
        self.response = response
        self.calls: list[dict[str, Any]] = []

    async def _answer(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return self.response

    put_records = send_message_batch = put_object = _answer


async def _raise(exc: Exception) -> None:
    raise exc


@pytest.mark.parametrize(
    ("exc", "expected", "throttled"),
    [
        (client_error("ProvisionedThroughputExceededException"), SinkUnavailableError, True),
        (client_error("ResourceNotFoundException"), SinkUnavailableError, False),
        (client_error("AccessDeniedException"), SinkUnavailableError, False),
        (client_error("ValidationException"), BatchRejectedError, False),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), SinkUnavailableError, False),
    ],
)
async def test_aws_errors_are_translated_at_the_boundary(
    exc: Exception, expected: type[Exception], throttled: bool
) -> None:
    with pytest.raises(expected) as caught:
        await call_aws(_raise(exc), "Op")
    assert caught.value.__cause__ is exc
    if isinstance(caught.value, SinkUnavailableError):
        assert caught.value.throttled is throttled


async def test_kinesis_retries_only_failed_records_and_flags_throttling() -> None:
    records = make_records(4)
    client = RecordingClient(
        {
            "FailedRecordCount": 2,
            "Records": [
                {"SequenceNumber": "1", "ShardId": "s"},
                {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded"},
                {"SequenceNumber": "2", "ShardId": "s"},
                {"ErrorCode": "InternalFailure", "ErrorMessage": "oops"},
            ],
        }
    )
    outcome = await KinesisSink(client, KinesisSinkConfig("feed")).deliver(records)
    assert outcome.retry == (records[1], records[3]) and outcome.throttled
    (call,) = client.calls
    assert call["StreamName"] == "feed"
    assert [(r["PartitionKey"], r["Data"]) for r in call["Records"]] == [(r.stream_id, r.payload) for r in records]


async def test_kinesis_rejects_an_oversized_record_before_the_call() -> None:
    big = SinkRecord("big", "cam", 0, b"x" * KINESIS_MAX_RECORD_BYTES)  # + partition key: over the limit
    client = RecordingClient({"FailedRecordCount": 0, "Records": []})
    outcome = await KinesisSink(client, KinesisSinkConfig("feed")).deliver([big])
    assert [r.record for r in outcome.rejected] == [big]
    assert "1048579 bytes" in outcome.rejected[0].reason
    assert client.calls == []


async def test_sqs_fifo_entries_carry_group_and_deduplication_ids() -> None:
    records = [*make_records(2), SinkRecord("id with spaces", "cam a", 9, b"{}")]
    client = RecordingClient({"Successful": [], "Failed": []})
    sink = SqsSink(client, SqsSinkConfig("http://127.0.0.1:1/123/feed.fifo"))
    outcome = await sink.deliver(records)
    assert outcome.retry == () and outcome.rejected == ()
    entries = client.calls[0]["Entries"]
    assert [(e["MessageGroupId"], e["MessageDeduplicationId"]) for e in entries[:2]] == [
        (r.stream_id, r.event_id) for r in records[:2]
    ]
    assert len(entries[2]["MessageGroupId"]) == 64 and " " not in entries[2]["MessageDeduplicationId"]


async def test_sqs_sender_faults_are_rejected_and_server_faults_retried() -> None:
    records = make_records(3)
    client = RecordingClient(
        {
            "Successful": [{"Id": "0"}],
            "Failed": [
                {"Id": "1", "SenderFault": True, "Code": "InvalidMessageContents", "Message": "bad"},
                {"Id": "2", "SenderFault": False, "Code": "InternalError", "Message": "later"},
            ],
        }
    )
    outcome = await SqsSink(client, SqsSinkConfig("http://127.0.0.1:1/123/feed")).deliver(records)
    assert outcome.retry == (records[2],)
    assert [(r.record, "InvalidMessageContents" in r.reason) for r in outcome.rejected] == [(records[1], True)]


async def test_sqs_rejects_oversized_and_non_text_payloads() -> None:
    config = SqsSinkConfig("http://127.0.0.1:1/123/feed", max_message_bytes=1024)
    big = SinkRecord("big", "cam", 0, b"x" * 1024)
    binary = SinkRecord("bin", "cam", 1, b"\xff")
    control = SinkRecord("ctl", "cam", 2, b'{"a":"\x01"}')
    client = RecordingClient({"Successful": [], "Failed": []})
    outcome = await SqsSink(client, config).deliver([big, binary, control])
    reasons = {r.record.event_id: r.reason for r in outcome.rejected}
    assert "at most 1024 bytes" in reasons["big"]
    assert "not UTF-8" in reasons["bin"]
    assert "does not allow" in reasons["ctl"]
    assert client.calls == []


def test_s3_keys_group_a_camera_day_and_change_with_content() -> None:
    config = S3SinkConfig("bucket", "events", gzip=True)
    first = SinkRecord("ev/1", "cam 1", 42, b"{}", emitted_at=1_700_000_000.5)  # 2023-11-14T22:13:20.5Z
    key = object_key(config, first, b"body")
    assert key.startswith("events/2023-11-14/cam_1/221320500-000000000042-ev_1-")
    assert key.endswith(".jsonl.gz")
    assert object_key(config, first, b"body") == key != object_key(config, first, b"other body")


def test_s3_batches_split_by_day_and_stream_in_order() -> None:
    day = 86_400.0
    records = [
        SinkRecord(f"e{i}", s, i, b"{}", emitted_at=t)
        for i, (s, t) in enumerate([("a", 0.0), ("b", 0.0), ("a", 1.0), ("a", day), ("b", 2.0)])
    ]
    groups: Sequence[list[SinkRecord]] = group_by_day_and_stream(records)
    assert [[r.event_id for r in g] for g in groups] == [["e0", "e2"], ["e1", "e4"], ["e3"]]


async def test_s3_writes_one_complete_gzip_object_per_group() -> None:
    records = make_records(4, streams=("cam-a",))
    client = RecordingClient({})
    outcome = await S3Sink(client, S3SinkConfig("bucket", "p", gzip=True)).deliver(records)
    assert outcome.retry == ()
    (call,) = client.calls
    assert gzip.decompress(call["Body"]).splitlines() == [r.payload for r in records]
    assert call["Key"] == object_key(S3SinkConfig("bucket", "p", gzip=True), records[0], call["Body"])
