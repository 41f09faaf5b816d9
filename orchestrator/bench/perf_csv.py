"""perf_analyzer's ``-f`` CSV from a report's run: the same header, the same units (microseconds).

A spreadsheet or script written for perf_analyzer's CSV reads pitchside's unchanged. Where pitchside does not
time a column separately it says so rather than inventing a figure: requests are serialised once before the
clock starts, so ``Client Send``, ``Client Recv`` and ``request/response`` are 0 and ``response wait`` is the whole
latency; ``Network+Server Send/Recv`` is what the client waited beyond the server's queue and compute times.
"""

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

Json = dict[str, Any]

COLUMNS: Final = (
    "Inferences/Second",
    "Client Send",
    "Network+Server Send/Recv",
    "Server Queue",
    "Server Compute Input",
    "Server Compute Infer",
    "Server Compute Output",
    "Client Recv",
    "p50 latency",
    "p90 latency",
    "p95 latency",
    "p99 latency",
    "Avg latency",
    "request/response",
    "response wait",
)
CONCURRENCY_HEADER: Final = ("Concurrency", *COLUMNS)
REQUEST_RATE_HEADER: Final = ("Request Rate", *COLUMNS)
_SERVER_STEPS: Final = ("queue_ms", "compute_input_ms", "compute_infer_ms", "compute_output_ms")


def csv_header(mode: str) -> tuple[str, ...]:
    """perf_analyzer's header for ``mode`` (``concurrency`` or ``request_rate``)."""
    return CONCURRENCY_HEADER if mode == "concurrency" else REQUEST_RATE_HEADER


def csv_rows(run: Json, model: str) -> list[list[str]]:
    """One row per level that completed a request; server columns are ``model``'s Triton statistics."""
    return [_row(level, model) for level in run["levels"] if level["client"]["latency_ms"] is not None]


def write_csv(path: Path, section: Json, run: Json) -> None:
    rows = csv_rows(run, section["target"]["model"])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(csv_header(section["configuration"]["mode"]))
        writer.writerows(rows)


def output_paths(path: Path, wires: Sequence[str]) -> list[Path]:
    """``path`` for one wire format; ``name.<wire>.csv`` beside it for each of several (one CSV per run, as
    perf_analyzer writes one per model)."""
    if len(wires) == 1:
        return [path]
    return [path.with_name(f"{path.stem}.{wire}{path.suffix}") for wire in wires]


def _row(level: Json, model: str) -> list[str]:
    latency = level["client"]["latency_ms"]
    server = level["server"]["models"].get(model, {})
    steps = [_us(server.get(key)) for key in _SERVER_STEPS]
    avg = _us(latency["mean_ms"])
    network = max(0, avg - sum(steps))
    value = level["concurrency"] if level["concurrency"] is not None else level["request_rate"]
    return [
        str(value),
        repr(float(level["client"]["throughput_fps"])),
        "0",
        str(network),
        *map(str, steps),
        "0",
        *(str(_us(latency[key])) for key in ("p50_ms", "p90_ms", "p95_ms", "p99_ms")),
        str(avg),
        "0",
        str(avg),
    ]


def _us(ms: float | None) -> int:
    return 0 if ms is None else round(ms * 1000)
