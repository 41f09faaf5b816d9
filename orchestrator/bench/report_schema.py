"""The report's JSON Schema (``report.schema.json``, shipped in this package) and validation against it."""

import json
from functools import cache
from importlib import resources
from typing import Any, Final

SCHEMA_FILE: Final = "report.schema.json"


class ReportInvalidError(ValueError):
    """A report does not match the schema; ``problems`` lists each violation with its JSON path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""))
        self.problems = problems


@cache
def report_schema() -> dict[str, Any]:
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return dict(json.loads(text))


def schema_problems(report: Any) -> list[str]:
    """Every violation of the schema, as ``path: message``; [] for a valid report."""
    from jsonschema import Draft202012Validator  # imported here: only validation needs it

    validator = Draft202012Validator(report_schema())
    return [f"{_path(error.absolute_path)}: {error.message}" for error in validator.iter_errors(report)]


def validate_report(report: Any) -> None:
    problems = schema_problems(report)
    if problems:
        raise ReportInvalidError(problems)


def _path(parts: Any) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)
