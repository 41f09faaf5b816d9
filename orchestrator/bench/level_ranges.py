"""Load levels as people type them: perf_analyzer's ``start:end:step`` ranges, or comma-separated values."""

from typing import Final

_MAX_LEVELS: Final = 1000
"""A range that expands past this many levels is a typo (a step of 0.001), not a benchmark."""


class LevelSyntaxError(ValueError):
    """The text is neither comma-separated numbers nor ``start:end:step``."""


def parse_levels(text: str, flag: str) -> tuple[float, ...]:
    """``"1,2,4"`` -> (1, 2, 4); ``"1:8:2"`` -> (1, 3, 5, 7); ``"1:4"`` -> (1, 2, 3, 4) (step 1, as perf_analyzer);
    ``"4"`` -> (4,). Parts may mix: ``"1:4,8"``. ``flag`` names the option in the error message."""
    levels: list[float] = []
    for part in (p.strip() for p in text.split(",")):
        if part:
            levels += _expand(part, text, flag)
    if not levels:
        raise LevelSyntaxError(_usage(text, flag))
    return tuple(levels)


def _expand(part: str, text: str, flag: str) -> list[float]:
    try:
        numbers = [float(n) for n in part.split(":")]
    except ValueError:
        raise LevelSyntaxError(_usage(text, flag)) from None
    if len(numbers) == 1:
        return numbers
    if len(numbers) > 3:
        raise LevelSyntaxError(_usage(text, flag))
    start, end, step = numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else 1.0
    if step <= 0 or end < start:
        raise LevelSyntaxError(f"{flag} {text!r}: a range needs start <= end and a positive step, e.g. 1:8:1")
    count = int((end - start) / step + 1e-9) + 1
    if count > _MAX_LEVELS:
        raise LevelSyntaxError(f"{flag} {text!r} expands to {count} levels; use a larger step")
    return [round(start + i * step, 9) for i in range(count)]


def _usage(text: str, flag: str) -> str:
    return f"{flag} expects comma-separated numbers or start:end:step (e.g. 1,2,4 or 1:8:1), got {text!r}"
