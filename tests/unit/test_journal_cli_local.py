"""``pitchside journal`` on a local state directory: where it looks, and replay into a JSON Lines sink."""

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from orchestrator.cli.app import app
from orchestrator.sinks.fanout import journal_directory
from orchestrator.sinks.journal import Journal
from orchestrator.sinks.record import SinkRecord
from orchestrator.sinks.uri import parse_sink_uri


def journal_records(state_dir: Path, sink_uri: str, count: int) -> list[SinkRecord]:
    """Records written to the sink's journal the way a run spills them."""
    records = [SinkRecord(f"cam:{i:04d}", "cam", i, json.dumps({"n": i}).encode()) for i in range(count)]

    async def write() -> None:
        directory = journal_directory(state_dir / "journal", parse_sink_uri(sink_uri).name)
        journal = Journal.open(directory, segment_records=7)
        for record in records:
            journal.append(record)
        await journal.close()

    asyncio.run(write())
    return records


def status(*args: str, env: dict[str, str] | None = None) -> dict:
    result = CliRunner().invoke(app, ["journal", "status", "--json", *args], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_state_dir_comes_from_the_environment_over_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "pitchside.toml"
    config.write_text('[[sinks]]\nuri = "stdout:"\n[delivery]\nstate_dir = "from-file"\n')
    assert status("--config", str(config))["dead_letter_path"] == str(tmp_path / "from-file" / "dead-letter.jsonl")
    found = status("--config", str(config), env={"PITCHSIDE_STATE_DIR": str(tmp_path / "pv")})
    assert found["dead_letter_path"] == str(tmp_path / "pv" / "dead-letter.jsonl")
    assert found["journals"][0]["directory"].startswith(str(tmp_path / "pv" / "journal"))


def test_replay_delivers_a_journal_into_its_jsonl_sink_in_order(tmp_path: Path) -> None:
    sink = f"jsonl:{tmp_path / 'events.jsonl'}"
    records = journal_records(tmp_path / "state", sink, 20)
    assert status("--sink", sink, "--state-dir", str(tmp_path / "state"))["journals"][0]["segments"] == 3

    result = CliRunner().invoke(app, ["journal", "replay", "--sink", sink, "--state-dir", str(tmp_path / "state")])

    assert result.exit_code == 0, result.output
    assert result.stdout == "replayed 20 event(s); 0 still journaled for the configured sinks\n"
    delivered = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert delivered == [json.loads(r.payload) for r in records]
    assert status("--sink", sink, "--state-dir", str(tmp_path / "state"))["journaled"] == 0


def test_draining_an_empty_state_dir_moves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "drained.jsonl"
    result = CliRunner().invoke(app, ["journal", "drain", "--state-dir", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"drained 0 event(s) to {out}\n"
    assert not out.exists()
