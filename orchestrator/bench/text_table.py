"""Plain-text columns for the terminal: what every bench table and ``pitchside detect`` print with."""

from collections.abc import Iterable, Sequence


def render_rows(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """Right-aligned columns, each as wide as its widest cell."""
    table = [list(header), *[list(row) for row in rows]]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    return ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in table]


def fmt(value: float | int | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)
