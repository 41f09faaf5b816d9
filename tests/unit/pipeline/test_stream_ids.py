"""Stream ids are restricted to a safe set where the config and the CLI build them."""

import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.config.run_config import ConfigError, load_toml
from orchestrator.sources.spec import parse_source
from orchestrator.sources.stream_id import InvalidStreamIdError, check_stream_id, derive_stream_id


@pytest.mark.parametrize("bad", ["..", ".", "../../etc", "a\nb", "cam 1", "", "-cam", "cam/1", "x" * 129, "caméra"])
def test_unsafe_ids_are_refused_with_one_line(bad: str) -> None:
    with pytest.raises(InvalidStreamIdError) as caught:
        parse_source("clip.mp4", bad)
    assert "\n" not in str(caught.value)
    assert "letters, digits" in str(caught.value)


@pytest.mark.parametrize("good", ["north-stand", "cam.1", "Cam_2", "0", "x" * 128])
def test_safe_ids_are_kept_as_given(good: str) -> None:
    assert parse_source("clip.mp4", good).stream_id == good == check_stream_id(good)


@pytest.mark.parametrize(
    ("uri", "derived"),
    [
        ("rtsp://10.1.2.3:554/cam/1", "10.1.2.3-cam-1"),
        ("clips/..mp4", "stream"),
        ("my clip\nforged.mp4", "my-clip-forged"),
        ("http://h/%2e%2e/a b.m3u8", "h--2e-2e-a-b.m3u8"),
    ],
)
def test_ids_derived_from_paths_and_urls_are_made_safe(uri: str, derived: str) -> None:
    assert parse_source(uri).stream_id == derived
    assert derive_stream_id("...") == "stream"


def test_a_config_file_with_a_dotdot_id_names_the_stream(tmp_path: Path) -> None:
    path = tmp_path / "pitchside.toml"
    path.write_text('[[streams]]\nid = ".."\nsource = "clip.mp4"\n')
    with pytest.raises(ConfigError, match=r"pitchside.toml: streams\[0\]: stream id '\.\.' is not allowed"):
        load_toml(path)


@pytest.mark.parametrize("source", ["..=clip.mp4", "a\nb=clip.mp4"])
def test_cli_refuses_an_unsafe_id_before_starting_anything(source: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "run", "--source", source, "--triton-url", "127.0.0.1:9"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --source: streams[0]: stream id "), lines
    assert "is not allowed" in lines[0]
