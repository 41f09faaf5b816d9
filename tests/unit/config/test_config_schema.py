"""The file's schema: an unknown key or a value of the wrong type is refused with one line naming its key path."""

from pathlib import Path

import pytest

from orchestrator.config.run_config import ConfigError, load_toml

STREAM = '[[streams]]\nsource = "clip.mp4"\n'


def problems(tmp_path: Path, text: str) -> tuple[str, ...]:
    path = tmp_path / "pitchside.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_toml(path)
    prefix = f"{path}: "
    assert all(line.startswith(prefix) for line in caught.value.problems), caught.value.problems
    return tuple(line.removeprefix(prefix) for line in caught.value.problems)


def test_an_unknown_top_level_key_is_named(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, STREAM.replace("[[streams]]", 'colour = "red"\n[[streams]]'))
    assert line.startswith("colour: unknown setting (known: mode, annotate, max_frames, shard, ")


def test_an_unknown_nested_key_is_named_with_its_table(tmp_path: Path) -> None:
    assert problems(tmp_path, STREAM + "[metrics]\nprot = 9200\n") == (
        "metrics.prot: unknown setting (known: port, host)",
    )
    (line,) = problems(tmp_path, STREAM + "[delivery.retry]\nbase = 1.0\n")
    assert line == "delivery.retry.base: unknown setting (known: base_s, max_s)"


def test_an_unknown_key_in_a_stream_names_the_stream(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, STREAM + STREAM + "[streams.tracker]\nmax_age = 3\n")
    assert line.startswith("streams[1].tracker.max_age: unknown setting (known: iou_threshold, ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[live]\nstaleness_budget_s = "0.5"', "live.staleness_budget_s: expected a number, got the string '0.5'"),
        ('[metrics]\nport = "9108"', "metrics.port: expected a whole number, got the string '9108'"),
        ("[metrics]\nport = 9108.0", "metrics.port: expected a whole number, got the number 9108.0"),
        ("[tracker]\nmin_hits = true", "tracker.min_hits: expected a whole number, got the boolean true"),
        ("[tracing]\nenabled = 1", "tracing.enabled: expected true or false, got the integer 1"),
        ('[triton]\nurls = "a:8001"', "triton.urls: expected a list, got the string 'a:8001'"),
        ('mode = "fast"', "mode: expected one of 'live' or 'offline', got the string 'fast'"),
        ("annotate = 3", "annotate: expected a string, got the integer 3"),
        ("live = 3", "live: expected a table, got the integer 3"),
        ("[live]\nstaleness_budget_s = 0", "live.staleness_budget_s: expected a number > 0, got the integer 0"),
    ],
)
def test_a_wrong_type_names_the_key_and_what_was_expected(tmp_path: Path, text: str, expected: str) -> None:
    assert problems(tmp_path, text + "\n" + STREAM) == (expected,)


def test_every_problem_is_reported_at_once_one_line_each(tmp_path: Path) -> None:
    found = problems(tmp_path, STREAM + '[live]\nstaleness_budget_s = "0.5"\n[metrics]\nprot = 1\n')
    assert found == (
        "live.staleness_budget_s: expected a number, got the string '0.5'",
        "metrics.prot: unknown setting (known: port, host)",
    )


def test_a_setting_a_dataclass_refuses_is_named_with_its_table(tmp_path: Path) -> None:
    assert problems(tmp_path, STREAM + "[tracker]\niou_threshold = 1.5\n") == (
        "tracker: iou_threshold must be within (0, 1], got 1.5",
    )
    assert problems(tmp_path, STREAM + "[reconnect]\ninitial_s = 5.0\nmax_s = 1.0\n") == (
        "reconnect: max_s (1.0) must be at least initial_s (5.0)",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[sinks]]\nuri = "kafka://events"', "sinks[0].uri: unknown sink 'kafka://events': expected one of"),
        ('[[sinks]]\nuri = "jsonl:"', "sinks[0].uri: 'jsonl:' : expected jsonl:PATH"),
        ('[[streams]]\nsource = "ftp://cam/1"', "streams[1].source: 'ftp://cam/1': unknown scheme 'ftp'"),
        ('[[streams]]\nsource = ""', "streams[1].source: expected a path or URL, got an empty string"),
        ('[[streams]]\nsource = "synthetic:?fps=fast"', "streams[1].source: 'synthetic:?fps=fast': synthetic:"),
    ],
)
def test_sink_uris_and_sources_are_checked_with_the_file(tmp_path: Path, text: str, expected: str) -> None:
    (line,) = problems(tmp_path, STREAM + text + "\n")
    assert line.replace("' :", "':").startswith(expected.replace("' :", "':")), line


def test_an_integer_is_a_number_and_enums_are_spelled_as_strings(tmp_path: Path) -> None:
    path = tmp_path / "pitchside.toml"
    path.write_text('mode = "offline"\n[live]\nstaleness_budget_s = 1\n[triton]\nwire = "jpeg"\n' + STREAM)
    config = load_toml(path)
    assert config.flow.staleness_budget_s == 1.0 and str(config.flow.mode) == "offline"
    assert str(config.triton.wire) == "jpeg"


def test_the_documented_example_is_a_valid_config(tmp_path: Path) -> None:
    from orchestrator.config import run_config

    doc = run_config.__doc__ or ""
    example = doc.split("Example ``pitchside.toml`` (every table is optional)::\n", 1)[1]
    path = tmp_path / "pitchside.toml"
    path.write_text("\n".join(line.removeprefix("    ") for line in example.splitlines()))
    config = load_toml(path).validated()
    assert config.flow_for(config.streams[0]).staleness_budget_s == 0.3
    assert config.tracker_for(config.streams[0]).max_age_frames == 60
    assert config.annotate == tmp_path / "out" / "videos"
