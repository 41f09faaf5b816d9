"""Journal segments and dead letters hold undelivered events: 0600 whatever the umask, directories 0700."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sink_fakes import make_records

from orchestrator.sinks.base import Rejection
from orchestrator.sinks.dead_letter import DeadLetterFile
from orchestrator.sinks.journal import Journal


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # the usual default, under which a plain open() makes 0644 files
    yield
    os.umask(previous)


async def test_journal_segments_and_their_directory_are_private(tmp_path: Path) -> None:
    directory = tmp_path / "journal" / "kinesis_feed-0123abcd"
    journal = Journal.open(directory, segment_records=2)
    records = make_records(5)
    for record in records[1:]:
        journal.append(record)
    await journal.put_front(records[:1])
    await journal.close()
    segments = sorted(directory.iterdir())
    assert len(segments) == 3
    assert {mode(p) for p in segments} == {0o600}
    assert mode(directory) == 0o700


async def test_a_dead_letter_file_left_0644_by_an_older_run_is_narrowed_when_written(tmp_path: Path) -> None:
    dead = DeadLetterFile(tmp_path / "dead-letter.jsonl")
    dead.path.write_bytes(b"")
    dead.path.chmod(0o644)
    await dead.write("kinesis://feed", [Rejection(make_records(1)[0], "too big")])
    assert mode(dead.path) == 0o600


async def test_the_dead_letter_file_is_private(tmp_path: Path) -> None:
    dead = DeadLetterFile(tmp_path / "out" / "dead-letter.jsonl")
    await dead.write("sqs://q", [Rejection(record, "over 256 KiB") for record in make_records(2)])
    assert mode(dead.path) == 0o600
    assert len(dead.path.read_text().splitlines()) == 2
