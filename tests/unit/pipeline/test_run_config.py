from pathlib import Path

import pytest

from orchestrator.config.run_config import ConfigError, Mode, RunConfig, Shard, load_toml
from orchestrator.sources.frame_buffer import DropPolicy
from orchestrator.sources.spec import SourceKind, parse_source
from orchestrator.triton.wire import WireFormat


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pitchside.toml"
    path.write_text(text)
    return path


def test_full_config_file(tmp_path: Path) -> None:
    config = load_toml(
        write(
            tmp_path,
            """
mode = "offline"
[[streams]]
id = "north"
source = "rtsp://cam-north.local/stream1"
[[streams]]
source = "clips/kickoff.mp4"
[[sinks]]
uri = "jsonl:out/events.jsonl"
[[sinks]]
uri = "kinesis://match-events?region=eu-west-1"
[triton]
urls = ["dns:///triton-grpc:8001", "10.0.0.5:8001"]
wire = "jpeg"
request_timeout_s = 2.5
[live]
staleness_budget_s = 0.25
[metrics]
port = 9200
""",
        )
    )
    assert [(s.stream_id, s.kind) for s in config.streams] == [
        ("north", SourceKind.NETWORK),
        ("kickoff", SourceKind.FILE),
    ]
    assert config.sinks == ("jsonl:out/events.jsonl", "kinesis://match-events?region=eu-west-1")
    assert config.triton.urls == ("dns:///triton-grpc:8001", "10.0.0.5:8001")
    assert config.triton.wire is WireFormat.JPEG and config.triton.request_timeout_s == 2.5
    assert config.flow.mode is Mode.OFFLINE and config.flow.staleness_budget_s == 0.25
    assert config.metrics_port == 9200
    network, file = config.streams
    assert config.flow.policy_for(network) is DropPolicy.DROP_OLDEST, "a network camera is live even offline"
    assert config.flow.policy_for(file) is DropPolicy.BLOCK
    assert not config.flow.paced(file) and not config.flow.paced(network)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour = 'red'", r"pitchside.toml: colour: unknown setting \(known: mode, annotate, "),
        ("[[streams]]\nid = 'x'", r"pitchside.toml: streams\[0\].source: required setting missing"),
        ("[triton]\nurl = 'x'", r"pitchside.toml: triton.url: unknown setting \(known: urls, model, "),
        ("[live]\nstaleness = 1", r"pitchside.toml: live.staleness: unknown setting"),
        ("mode = [", "Invalid"),
    ],
)
def test_bad_config_files_name_the_setting(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_toml(write(tmp_path, text))


def test_validation() -> None:
    with pytest.raises(ConfigError, match="no streams"):
        RunConfig().validated()
    twice = (parse_source("a.mp4", "cam"), parse_source("b.mp4", "cam"))
    with pytest.raises(ConfigError, match=r"repeated: \['cam'\]"):
        RunConfig(streams=twice).validated()


def test_shards_split_streams_without_overlap() -> None:
    streams = tuple(parse_source(f"cam{i}.mp4") for i in range(7))
    shards = [Shard.parse(f"{i}/3").select(streams) for i in range(3)]
    assert sorted(s.stream_id for shard in shards for s in shard) == sorted(s.stream_id for s in streams)
    assert [s.stream_id for s in shards[1]] == ["cam1", "cam4"]
    for bad in ("3/3", "x/2", "1"):
        with pytest.raises(ConfigError):
            Shard.parse(bad)


def test_source_kinds(tmp_path: Path) -> None:
    assert parse_source(str(tmp_path)).kind is SourceKind.IMAGES
    assert parse_source("https://cdn.example/live/master.m3u8").kind is SourceKind.NETWORK
    assert parse_source("synthetic:?fps=50").kind is SourceKind.SYNTHETIC
    assert parse_source("rtsp://10.1.2.3:554/cam/1").stream_id == "10.1.2.3-cam-1"


def test_journal_and_dead_letters_default_to_out_beside_the_config_file(tmp_path: Path) -> None:
    config = load_toml(write(tmp_path, ""))
    assert config.journal_dir == tmp_path / "out" / "journal"
    assert config.dead_letter_path == tmp_path / "out" / "dead-letter.jsonl"
    assert RunConfig().journal_dir == Path("out/journal")


def test_a_state_dir_in_the_file_holds_journal_and_dead_letters(tmp_path: Path) -> None:
    config = load_toml(write(tmp_path, "[delivery]\nstate_dir = '/var/lib/pitchside'\n"))
    assert config.journal_dir == Path("/var/lib/pitchside/journal")
    assert config.dead_letter_path == Path("/var/lib/pitchside/dead-letter.jsonl")
    relative = load_toml(write(tmp_path, "[delivery]\nstate_dir = 'state'\njournal_dir = 'j'\n"))
    assert relative.journal_dir == tmp_path / "state" / "j"


def test_the_state_dir_argument_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[delivery]\nstate_dir = '/etc/pitchside/state'\ndead_letter = 'dl.jsonl'\n")
    config = load_toml(path, state_dir=Path("/data"))
    assert (config.journal_dir, config.dead_letter_path) == (Path("/data/journal"), Path("/data/dl.jsonl"))


def test_absolute_delivery_paths_are_used_as_they_are(tmp_path: Path) -> None:
    path = write(tmp_path, "[delivery]\njournal_dir = '/j'\ndead_letter = '/d/dl.jsonl'\n")
    config = load_toml(path, state_dir=Path("/data"))
    assert (config.journal_dir, config.dead_letter_path) == (Path("/j"), Path("/d/dl.jsonl"))


def test_an_unknown_delivery_setting_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"pitchside.toml: delivery.journal: unknown setting \(known: state_dir, "):
        load_toml(write(tmp_path, "[delivery]\njournal = 'x'\n"))


def test_delivery_durability_from_the_file(tmp_path: Path) -> None:
    from orchestrator.sinks.settings import Durability

    assert load_toml(write(tmp_path, "")).durability is Durability.BUFFERED
    assert load_toml(write(tmp_path, "[delivery]\ndurability = 'write_ahead'\n")).durability is Durability.WRITE_AHEAD
    with pytest.raises(ConfigError, match=r"delivery.durability: expected one of 'buffered' or 'write_ahead', got"):
        load_toml(write(tmp_path, "[delivery]\ndurability = 'fsync'\n"))
