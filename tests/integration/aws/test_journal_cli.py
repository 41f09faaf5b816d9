"""``pitchside journal status|replay|drain`` on journals a real outage left behind, against a real moto server.

The journal is written the way a run writes it: a fan-out delivers to Kinesis while the moto server is really
down, and closing it journals everything it could not deliver.
"""

import asyncio
import json
from pathlib import Path

import pytest
from aws_feeds import client, compare, produce, read_kinesis, unique
from conftest import TEST_RETRY
from prometheus_client import CollectorRegistry
from restartable_moto import RestartableMotoServer
from typer.testing import CliRunner

from orchestrator.cli.app import app
from orchestrator.config.run_config import load_toml
from orchestrator.sinks import DeliverySettings, SinkFanout, SinkRecord

pytestmark = pytest.mark.aws

EVENTS = 240


def write_config(tmp_path: Path, sink_uri: str) -> Path:
    path = tmp_path / "etc" / "pitchside.toml"
    path.parent.mkdir(parents=True)
    path.write_text(
        f'[[streams]]\nid = "cam"\nsource = "rtsp://cam/1"\n\n[[sinks]]\nuri = "{sink_uri}"\n\n'
        f'[delivery]\nstate_dir = "{tmp_path / "state"}"\n'
    )
    return path


def create_stream(endpoint_url: str) -> str:
    async def create() -> str:
        name = unique("journal")
        async with client("kinesis", endpoint_url) as kinesis:
            await kinesis.create_stream(StreamName=name, ShardCount=1)
        return name

    return asyncio.run(create())


def journal_during_outage(moto: RestartableMotoServer, config: Path, uri: str, records: list[SinkRecord]) -> None:
    """A run whose feed is down the whole time: everything it submitted ends up journaled."""
    run = load_toml(config)
    settings = DeliverySettings(
        journal_dir=run.journal_dir, dead_letter_path=run.dead_letter_path, flush_timeout_s=0.3, retry=TEST_RETRY
    )

    async def submit_all() -> None:
        async with SinkFanout.from_uris([uri], settings, registry=CollectorRegistry()) as fanout:
            for record in records:
                fanout.submit(record)

    moto.stop()
    try:
        asyncio.run(submit_all())
    finally:
        moto.start()


def status(config: Path) -> dict:
    result = CliRunner().invoke(app, ["journal", "status", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def kinesis(moto: RestartableMotoServer, tmp_path: Path) -> tuple[str, str, Path]:
    stream = create_stream(moto.url)
    uri = f"kinesis://{stream}?endpoint_url={moto.url}"
    return stream, uri, write_config(tmp_path, uri)


def test_status_shows_what_an_outage_journaled_on_the_state_dir(moto, kinesis, tmp_path) -> None:
    stream, uri, config = kinesis
    journal_during_outage(moto, config, uri, produce(EVENTS))

    found = status(config)
    assert found["journaled"] == EVENTS
    (journal,) = found["journals"]
    assert journal["sink"] == f"kinesis://{stream}"
    assert journal["records"] == EVENTS and journal["segments"] >= 1
    assert Path(journal["directory"]).is_relative_to(tmp_path / "state" / "journal")
    assert 0 <= journal["oldest_age_s"] < 60
    assert (found["dead_letters"], found["dead_letter_path"]) == (0, str(tmp_path / "state" / "dead-letter.jsonl"))

    table = CliRunner().invoke(app, ["journal", "status", "--config", str(config)]).stdout
    assert f"journaled: {EVENTS} event(s)" in table and f"kinesis://{stream}" in table


def test_replay_delivers_every_journaled_event_in_order_and_empties_the_journal(moto, kinesis) -> None:
    stream, uri, config = kinesis
    records = produce(EVENTS)
    journal_during_outage(moto, config, uri, records)

    result = CliRunner().invoke(app, ["journal", "replay", "--config", str(config), "--timeout", "60"])

    assert result.exit_code == 0, result.output
    assert result.stdout == f"replayed {EVENTS} event(s); 0 still journaled for the configured sinks\n"
    comparison = compare(records, asyncio.run(read_kinesis(moto.url, stream)))
    assert comparison.lossless and comparison.duplicates == 0, comparison
    assert status(config)["journaled"] == 0


def test_replay_while_the_feed_is_still_down_keeps_everything_and_exits_1(moto, kinesis) -> None:
    _, uri, config = kinesis
    journal_during_outage(moto, config, uri, produce(EVENTS))
    moto.stop()
    try:
        result = CliRunner().invoke(app, ["journal", "replay", "--config", str(config), "--timeout", "0.5"])
    finally:
        moto.start()
    assert result.exit_code == 1
    assert f"{EVENTS} still journaled" in result.stdout
    assert status(config)["journaled"] == EVENTS


def test_drain_moves_every_journal_to_a_file_including_one_no_configured_sink_owns(moto, kinesis, tmp_path) -> None:
    stream, uri, config = kinesis
    records = produce(EVENTS)
    journal_during_outage(moto, config, uri, records)
    retired = write_config(tmp_path / "retired", f"kinesis://{create_stream(moto.url)}?endpoint_url={moto.url}")
    retired.write_text(retired.read_text().replace(str(tmp_path / "retired" / "state"), str(tmp_path / "state")))
    retired_uri = load_toml(retired).sinks[0]
    journal_during_outage(moto, retired, retired_uri, produce(10, start=EVENTS))
    out = tmp_path / "drained" / "events.jsonl"

    assert [j["sink"] for j in status(config)["journals"]] == [f"kinesis://{stream}", None]
    result = CliRunner().invoke(app, ["journal", "drain", "--config", str(config), "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert result.stdout == f"drained {EVENTS + 10} event(s) to {out}\n"
    assert out.stat().st_mode & 0o777 == 0o600
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    ours = [line["event_id"] for line in lines if line["sink"] == f"kinesis://{stream}"]
    assert ours == [r.event_id for r in records]
    assert all(json.loads(line["payload"])["event_id"] == line["event_id"] for line in lines)
    assert len(lines) - len(ours) == 10
    assert status(config)["journaled"] == 0
    assert asyncio.run(read_kinesis(moto.url, stream)).by_stream == {}, "drain delivers nothing"


def test_a_missing_config_or_bad_sink_is_refused(tmp_path) -> None:
    missing = CliRunner().invoke(app, ["journal", "status", "--config", str(tmp_path / "nope.toml")])
    assert missing.exit_code == 2
    bad = CliRunner().invoke(app, ["journal", "status", "--sink", "kafka://x", "--state-dir", str(tmp_path)])
    assert bad.exit_code == 2 and "unknown sink" in bad.output
