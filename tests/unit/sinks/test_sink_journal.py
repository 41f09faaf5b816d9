from pathlib import Path

from sink_fakes import ids, make_records

from orchestrator.sinks.journal import Journal
from orchestrator.sinks.record import SinkRecord


async def drain(journal: Journal) -> list[SinkRecord]:
    taken: list[SinkRecord] = []
    while (segment := await journal.take()) is not None:
        taken.extend(segment.records)
        await journal.ack(segment)
    return taken


async def test_records_come_back_in_append_order_across_segments(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path, segment_records=3)
    records = make_records(10)
    for record in records:
        journal.append(record)
    assert journal.pending_segments == 4
    assert await drain(journal) == records
    assert not journal.has_pending()
    assert list(tmp_path.iterdir()) == []


async def test_a_reopened_journal_replays_what_the_previous_run_left(tmp_path: Path) -> None:
    records = make_records(7)
    first = Journal.open(tmp_path, segment_records=3)
    for record in records:
        first.append(record)
    await first.close()

    second = Journal.open(tmp_path, segment_records=3)
    assert second.has_pending()
    assert await drain(second) == records


async def test_put_front_orders_older_records_before_unread_segments(tmp_path: Path) -> None:
    older, newer = make_records(4), make_records(5, start=4)
    journal = Journal.open(tmp_path, segment_records=2)
    for record in newer:
        journal.append(record)
    await journal.put_front(older)
    await journal.close()
    assert await drain(Journal.open(tmp_path, segment_records=2)) == older + newer


async def test_put_front_lands_after_a_taken_segment_that_was_not_acknowledged(tmp_path: Path) -> None:
    taken_records, memory, spilled = make_records(2), make_records(3, start=2), make_records(2, start=5)
    journal = Journal.open(tmp_path, segment_records=2)
    for record in taken_records + spilled:
        journal.append(record)
    segment = await journal.take()
    assert segment is not None and list(segment.records) == taken_records
    await journal.put_front(memory)  # shutdown: segment undelivered, memory older than what spilled
    await journal.close()
    assert await drain(Journal.open(tmp_path, segment_records=2)) == taken_records + memory + spilled


async def test_a_torn_last_line_is_skipped_and_the_rest_replayed(tmp_path: Path) -> None:
    records = make_records(3)
    journal = Journal.open(tmp_path, segment_records=10)
    for record in records:
        journal.append(record)
    await journal.close()
    (segment_path,) = tmp_path.iterdir()
    with segment_path.open("ab") as file:
        file.write(b'{"event_id":"cut-sh')  # a crash mid-append
    assert ids(await drain(Journal.open(tmp_path, segment_records=10))) == ids(records)


async def test_taking_the_active_segment_leaves_nothing_pending(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path, segment_records=100)
    journal.append(make_records(1)[0])
    segment = await journal.take()
    assert segment is not None and len(segment.records) == 1
    assert not journal.has_pending()
    journal.append(make_records(1, start=1)[0])  # a later append starts a new segment
    assert journal.has_pending()
    await journal.ack(segment)
    assert ids(await drain(journal)) == ids(make_records(1, start=1))


async def test_a_segment_removed_behind_the_journals_back_is_skipped(tmp_path: Path) -> None:
    records = make_records(6)
    journal = Journal.open(tmp_path, segment_records=2)
    for record in records:
        journal.append(record)
    await journal.close()
    sorted(tmp_path.iterdir())[1].unlink()
    assert ids(await drain(Journal.open(tmp_path, segment_records=2))) == ids(records[:2] + records[4:])
