"""Where and with what a benchmark ran: the context that makes two reports comparable (or not)."""

import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from orchestrator.bench.cpu import logical_cpus

PACKAGES: Final = ("pitchside", "numpy", "onnxruntime", "opencv-python-headless", "tritonclient", "grpcio")
_CPUINFO: Final = Path("/proc/cpuinfo")


def describe_machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": _cpu_model(),
        "logical_cpus": logical_cpus(),
        "load_average": load_average(),
    }


def package_versions() -> dict[str, str | None]:
    return {name: _version(name) for name in PACKAGES}


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages: how busy the machine was (other work shares these cores)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        for line in _CPUINFO.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
