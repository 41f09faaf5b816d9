"""``pitchside config check`` / ``config show``, and how the file, the environment and the flags merge: one
mapping, checked once, so a flag or a variable meets the same rules as the file."""

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.cli import run as run_command
from orchestrator.cli.app import app

K8S = Path(__file__).resolve().parents[3] / "k8s"
STREAM = '[[streams]]\nid = "cam"\nsource = "clip.mp4"\n'


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PITCHSIDE_TRITON_URL", "PITCHSIDE_SHARD", "PITCHSIDE_STATE_DIR", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, list[str]]:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr.splitlines()


def write(tmp_path: Path, text: str, name: str = "pitchside.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def show(*args: str, env: dict[str, str] | None = None) -> dict:
    code, out, err = invoke("config", "show", "--json", *args, env=env)
    assert code == 0, err
    return json.loads(out)


def test_config_check_says_ok_for_a_good_file_and_every_shipped_one(tmp_path: Path) -> None:
    for path in [write(tmp_path, STREAM), *sorted(K8S.rglob("pitchside.toml"))]:
        assert invoke("config", "check", str(path))[:2] == (0, "ok\n"), path


def test_config_check_prints_every_problem_one_line_each_and_exits_1(tmp_path: Path) -> None:
    path = write(tmp_path, 'annotate = "videos"\n[live]\nstaleness_budget_s = "0.5"\n[metrics]\nprot = 9200\n' + STREAM)
    code, out, err = invoke("config", "check", str(path))
    assert (code, out) == (1, "")
    assert err == [
        f"error: {path}: live.staleness_budget_s: expected a number, got the string '0.5'",
        f"error: {path}: metrics.prot: unknown setting (known: port, host)",
    ]


def test_config_show_prints_toml_that_config_check_accepts(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[tracker]\nmin_hits = 2\n" + STREAM + "staleness_budget_s = 0.2\n[streams.reconnect]\nmax_attempts = 4\n",
    )
    code, out, _ = invoke("config", "show", "--config", str(path))
    assert code == 0 and "[tracker]\n" in out and "min_hits = 2\n" in out
    again = write(tmp_path, out, "shown.toml")
    assert invoke("config", "check", str(again))[:2] == (0, "ok\n")
    shown = show("--config", str(again))
    assert shown == show("--config", str(path))
    assert shown["streams"] == [
        {
            "id": "cam",
            "source": "clip.mp4",
            "staleness_budget_s": 0.2,
            "reconnect": {"initial_s": 0.5, "max_s": 30.0, "max_attempts": 4},
        }
    ]


def test_config_show_keeps_each_cameras_settings_and_calibration(tmp_path: Path) -> None:
    camera = (
        'classes = ["person", "ball"]\nmax_fps = 12.5\n[streams.score_thresholds]\nperson = 0.6\n"*" = 0.4\n'
        '[streams.pitch]\ntemplate = "basketball"\nimage_size = [640, 480]\n'
        "points = [[0, 0, 0.0, 0.0], [640, 0, 28.0, 0.0], [640, 480, 28.0, 15.0], [0, 480, 0.0, 15.0]]\n"
        "zones = {paint = [[1.0, 1.0], [3.0, 1.0], [3.0, 3.0]]}\n"
    )
    path = write(tmp_path, STREAM + camera)
    code, out, _ = invoke("config", "show", "--config", str(path))
    assert code == 0, out
    again = write(tmp_path, out, "shown.toml")
    assert invoke("config", "check", str(again))[:2] == (0, "ok\n")
    first, second = show("--config", str(path))["streams"][0], show("--config", str(again))["streams"][0]
    assert first == second
    assert first["classes"] == ["ball", "person"] and first["max_fps"] == 12.5
    assert first["score_thresholds"] == {"person": 0.6, "*": 0.4}
    pitch = first["pitch"]
    assert pitch["template"] == "basketball" and pitch["image_size"] == [640, 480]
    assert set(pitch["zones"]) == {"paint", "key_left", "key_right"}
    assert abs(pitch["homography"][0][0] - 28.0 / 640) < 1e-9


def test_precedence_is_defaults_then_file_then_environment_then_flags(tmp_path: Path) -> None:
    path = write(tmp_path, '[triton]\nurls = ["file:8001"]\n[metrics]\nport = 9200\n' + STREAM)
    assert show()["metrics"]["port"] == 9108
    assert show("--config", str(path))["triton"]["urls"] == ["file:8001"]
    env = {"PITCHSIDE_TRITON_URL": "env-a:8001,env-b:8001"}
    from_env = show("--config", str(path), env=env)
    assert (from_env["triton"]["urls"], from_env["metrics"]["port"]) == (["env-a:8001", "env-b:8001"], 9200)
    from_flag = show("--config", str(path), "--triton-url", "flag:8001", "--metrics-port", "0", env=env)
    assert (from_flag["triton"]["urls"], from_flag["metrics"]["port"]) == (["flag:8001"], 0)


def test_state_dir_from_the_environment_and_a_flag(tmp_path: Path) -> None:
    path = write(tmp_path, '[delivery]\nstate_dir = "state"\n' + STREAM)
    assert show("--config", str(path))["delivery"]["journal_dir"] == str(tmp_path / "state" / "journal")
    env = {"PITCHSIDE_STATE_DIR": "/pv"}
    assert show("--config", str(path), env=env)["delivery"]["journal_dir"] == "/pv/journal"
    assert show("--config", str(path), "--state-dir", "/flag", env=env)["delivery"]["dead_letter"] == (
        "/flag/dead-letter.jsonl"
    )


@pytest.mark.parametrize(
    ("args", "env", "line"),
    [
        (["--shard", "5/2"], {}, "error: --shard: shard: shard index must be within 0..1, got '5/2'"),
        ([], {"PITCHSIDE_SHARD": "5/2"}, "error: PITCHSIDE_SHARD: shard: shard index must be within 0..1, got '5/2'"),
        (["--wire", "png"], {}, "error: --wire: triton.wire: expected one of 'letterbox', 'raw' or 'jpeg', got "
                                "the string 'png'"),
        (["--sink", "kafka:x"], {}, "error: --sink: sinks[0].uri: unknown sink 'kafka:x': expected one of"),
        (["--source", "ftp://cam/1"], {}, "error: --source: streams[0].source: 'ftp://cam/1': unknown scheme 'ftp'"),
    ],
)  # fmt: skip
def test_flags_and_variables_meet_the_same_checks_as_the_file(args: list[str], env: dict, line: str) -> None:
    code, _, err = invoke("config", "show", *args, env=env)
    assert code == 1 and len(err) == 1 and err[0].startswith(line), err


def test_the_same_rule_names_where_the_value_came_from(tmp_path: Path) -> None:
    path = write(tmp_path, 'shard = "5/2"\n' + STREAM)
    code, _, err = invoke("config", "show", "--config", str(path))
    assert code == 1 and err == [f"error: {path}: shard: shard index must be within 0..1, got '5/2'"]


def test_shard_selects_this_replicas_streams(tmp_path: Path) -> None:
    path = write(tmp_path, "".join(f'[[streams]]\nid = "c{i}"\nsource = "c{i}.mp4"\n' for i in range(5)))
    shown = show("--config", str(path), env={"PITCHSIDE_SHARD": "1/2"})
    assert [s["id"] for s in shown["streams"]] == ["c1", "c3"]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--sink", "kinesis://"], "error: --sink: sinks[0].uri: "),
        (["--source", "rtps://typo/1"], "error: --source: streams[0].source: 'rtps://typo/1': unknown scheme"),
        (["--source", "cam=synthetic:?fps=x"], "error: --source: streams[0].source: "),
    ],
)
def test_run_refuses_a_bad_sink_or_source_before_any_server_starts(
    args: list[str], line: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_start(*_: object, **__: object) -> None:
        raise AssertionError("a session (and Triton) started for a config that cannot run")

    monkeypatch.setattr(run_command, "run_session", must_not_start)
    started = time.monotonic()
    code, _, err = invoke("run", *args)  # no --triton-url: a session would start the embedded server
    assert code == 2 and len(err) == 1 and err[0].startswith(line), err
    assert time.monotonic() - started < 5.0


def test_run_with_a_bad_config_file_prints_the_lines_without_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, '[metrics]\nprot = 9200\n[live]\nstaleness_budget_s = "0.5"\n' + STREAM)
    code, out, err = invoke("run", "--config", str(path))
    assert code == 2 and out == ""
    assert err == [
        f"error: {path}: live.staleness_budget_s: expected a number, got the string '0.5'",
        f"error: {path}: metrics.prot: unknown setting (known: port, host)",
    ]
