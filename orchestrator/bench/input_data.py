"""The benchmark's requests as perf_analyzer ``--input-data`` JSON, to cross-check a figure with perf_analyzer.

One ``data`` entry per frame in the order pitchside cycles through them, every input with its ``shape`` (so
variable-sized inputs such as JPEG bytes need no ``--shape``). Byte tensors are Base64 (``{"b64": ...}``, raw
little-endian bytes, row-major); small numeric tensors such as ``LETTERBOX`` are listed as numbers.
"""

import base64
import itertools
import json
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from orchestrator.bench.payloads import Payloads

_LISTED_MAX: Final = 64
"""Numeric tensors up to this many elements are written as a readable list, larger ones as Base64."""


def input_data(payloads: Payloads) -> dict[str, Any]:
    """``{"data": [{input: {"content": ..., "shape": [...]}, ...}, ...]}``, one entry per frame."""
    frames = len(next(iter(payloads.columns.values()), ()))
    return {"data": [{name: tensor(payloads.columns[name][i]) for name in payloads.input_names} for i in range(frames)]}


def tensor(array: npt.NDArray[Any]) -> dict[str, Any]:
    """One tensor of one request, batch dimension excluded (perf_analyzer adds it, ``-b 1``)."""
    data = np.ascontiguousarray(array)
    if data.dtype == np.uint8 or data.size > _LISTED_MAX:
        content: Any = {"b64": base64.b64encode(data.astype(data.dtype.newbyteorder("<")).tobytes()).decode("ascii")}
    else:
        content = data.ravel().tolist()
    return {"content": content, "shape": [int(d) for d in data.shape]}


def write_input_data(path: Path, payloads: Payloads) -> None:
    path.write_text(json.dumps(input_data(payloads)) + "\n", encoding="utf-8")


def perf_analyzer_commands(report: dict[str, Any], input_data_path: Path) -> list[str]:
    """The perf_analyzer command(s) that measure what the report's first run measured, on the same frames
    (one per level when the levels are not evenly spaced: perf_analyzer takes ranges, not lists)."""
    section = report["model"]
    config, windows = section["configuration"], section["configuration"]["windows"]
    flag = "--concurrency-range" if config["mode"] == "concurrency" else "--request-rate-range"
    common = [
        "perf_analyzer",
        "-m",
        section["target"]["model"],
        "-u",
        "<host>:8001",
        "-i",
        "grpc",
        "--input-data",
        str(input_data_path),
    ]
    rules = [
        "--measurement-interval",
        f"{windows['window_s'] * 1000:g}",
        "--stability-percentage",
        f"{windows['stability_pct']:g}",
        "--max-trials",
        str(windows["max_windows"]),
    ]
    metric = windows.get("latency_metric", "mean")
    if metric != "mean":
        rules += ["--percentile", metric[1:]]
    return [" ".join([*common, flag, span, *rules]) for span in level_ranges([float(v) for v in config["levels"]])]


def level_ranges(levels: list[float]) -> list[str]:
    """``["start:end:step"]`` for evenly spaced levels, else one ``"level:level"`` per level."""
    if len(levels) > 1 and len({round(b - a, 9) for a, b in itertools.pairwise(levels)}) == 1 and levels[1] > levels[0]:
        return [f"{levels[0]:g}:{levels[-1]:g}:{levels[1] - levels[0]:g}"]
    return [f"{level:g}:{level:g}" for level in levels]
