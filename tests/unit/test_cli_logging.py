"""Global CLI options: --version, --log-level and --log-format (JSON lines on request).

The root logger is restored after each test by tests/conftest.py."""

import io
import json
import logging
from importlib.metadata import version

from typer.testing import CliRunner

from orchestrator.cli.app import app
from orchestrator.cli.logs import JsonFormatter, LogFormat, LogLevel, configure_logging


def test_version_prints_the_installed_package_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"pitchside {version('pitchside')}\n"


def test_json_logs_are_one_object_per_line_with_level_logger_message_and_extras() -> None:
    stream = io.StringIO()
    configure_logging(LogLevel.INFO, LogFormat.JSON, stream)
    log = logging.getLogger("pitchside.test")
    log.debug("not shown at info")
    log.warning("sink %s lagging", "kinesis://feed", extra={"sink": "kinesis://feed", "lag_s": 2.5})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("delivery failed")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert {k: first[k] for k in ("level", "logger", "message", "sink", "lag_s")} == {
        "level": "WARNING",
        "logger": "pitchside.test",
        "message": "sink kinesis://feed lagging",
        "sink": "kinesis://feed",
        "lag_s": 2.5,
    }
    assert first["ts"].endswith("+00:00")
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exception"]


def test_text_logs_at_debug_show_debug_records() -> None:
    stream = io.StringIO()
    configure_logging(LogLevel.DEBUG, LogFormat.TEXT, stream)
    logging.getLogger("pitchside.test").debug("frame %d", 7)
    assert stream.getvalue().rstrip().endswith("DEBUG pitchside.test: frame 7")


def test_global_options_configure_the_root_logger_before_the_command_runs() -> None:
    result = CliRunner().invoke(app, ["--log-level", "warning", "--log-format", "json", "repo", "--help"])
    assert result.exit_code == 0, result.output
    root = logging.getLogger()
    assert root.level == logging.WARNING
    assert [type(h.formatter) for h in root.handlers if h.formatter is not None][-1] is JsonFormatter


def test_reconfiguring_replaces_only_its_own_handler() -> None:
    root = logging.getLogger()
    root.addHandler(logging.NullHandler())
    others = list(root.handlers)
    configure_logging(LogLevel.INFO, LogFormat.TEXT)
    configure_logging(LogLevel.INFO, LogFormat.JSON)
    assert root.handlers[:-1] == others
    assert isinstance(root.handlers[-1].formatter, JsonFormatter)


def test_logs_go_to_the_stderr_of_the_moment() -> None:
    result = CliRunner().invoke(app, ["--log-format", "json", "journal", "status", "--sink", "stdout:"])
    assert result.exit_code == 0, result.output
    logging.getLogger("pitchside.test").warning("after the command")  # the runner's stream is closed by now


def test_the_log_options_read_their_environment_variables() -> None:
    env = {"PITCHSIDE_LOG_LEVEL": "error", "PITCHSIDE_LOG_FORMAT": "json"}
    assert CliRunner().invoke(app, ["repo", "--help"], env=env).exit_code == 0
    assert logging.getLogger().level == logging.ERROR


def test_an_unknown_log_level_is_refused() -> None:
    result = CliRunner().invoke(app, ["--log-level", "loud", "repo", "--help"])
    assert result.exit_code == 2
