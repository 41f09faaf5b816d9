"""Configuration problems as one line each: where the value came from, its key path, what was expected."""

from collections.abc import Callable, Sequence
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

Location = tuple[str | int, ...]


class ConfigError(ValueError):
    """A configuration that cannot run: one line per problem, each naming the setting."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems = (problems,) if isinstance(problems, str) else tuple(problems)
        super().__init__("\n".join(self.problems))


def key_path(loc: Location) -> str:
    """``('streams', 0, 'source')`` -> ``streams[0].source``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f"{'.' if out else ''}{part}"
    return out


def problem_lines(exc: ValidationError, origin_of: Callable[[Location], str], root: type[BaseModel]) -> list[str]:
    return [f"{origin_of(e['loc'])}: {key_path(e['loc'])}: {_message(e, root)}" for e in exc.errors()]


def _message(error: ErrorDetails, root: type[BaseModel]) -> str:
    kind, ctx, got = error["type"], error.get("ctx", {}), describe(error["input"])
    if kind == "extra_forbidden":
        known = _model_at(root, error["loc"][:-1])
        return f"unknown setting (known: {', '.join(known.model_fields) if known else '?'})"
    if kind == "missing":
        return "required setting missing"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    expected = {
        "float_type": "a number",
        "int_type": "a whole number",
        "bool_type": "true or false",
        "string_type": "a string",
        "list_type": "a list",
        "model_type": "a table",
        "dict_type": "a table",
        "model_attributes_type": "a table",
        "enum": f"one of {ctx.get('expected', '')}",
        "greater_than": f"a number > {ctx.get('gt', 0):g}",
        "greater_than_equal": f"a number >= {ctx.get('ge', 0):g}",
        "less_than_equal": f"a number <= {ctx.get('le', 0):g}",
    }.get(kind)
    return f"expected {expected}, got {got}" if expected else f"{error['msg']}, got {got}"


def describe(value: Any) -> str:
    """A value as the TOML author wrote it: ``the string '0.5'``, ``the integer 5``, ``a table``."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _model_at(root: type[BaseModel], loc: Location) -> type[BaseModel] | None:
    """The model that holds the settings at ``loc`` (list indices skipped)."""
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        model = _submodel(field.annotation) if field is not None else None
    return model


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, UnionType, list):
        for arg in get_args(annotation):
            found = _submodel(arg)
            if found is not None:
                return found
    return None
