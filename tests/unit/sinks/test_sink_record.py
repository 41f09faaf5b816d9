import pytest

from orchestrator.sinks.errors import JournalCorruptError
from orchestrator.sinks.record import SinkRecord, decode_record, encode_record


def test_journal_line_round_trips_a_record() -> None:
    record = SinkRecord("e-1", "cam-1", 42, b'{"label":"ball","score":0.9}', emitted_at=1_700_000_000.25)
    line = encode_record(record)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode_record(line.rstrip(b"\n")) == record


def test_payload_bytes_survive_even_when_not_utf8() -> None:
    record = SinkRecord("e-2", "cam-1", 1, b"\xff\xfe{}\n", emitted_at=1.0)
    assert decode_record(encode_record(record)) == record


def test_a_line_that_is_not_a_record_is_reported() -> None:
    with pytest.raises(JournalCorruptError):
        decode_record(b'{"event_id": "x"')


def test_emitted_at_defaults_to_now() -> None:
    assert SinkRecord("e", "s", 0, b"{}").emitted_at > 1_600_000_000
