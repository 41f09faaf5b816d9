"""Where settings come from, merged into ONE mapping before it is checked once.

Precedence, lowest first: the defaults (named constants behind ``RunConfig``), the TOML file, the environment
(``PITCHSIDE_*``), the command-line flags. Every value keeps the name of where it came from, so a problem
names it: ``pitchside.toml: live.staleness_budget_s: …``, ``PITCHSIDE_SHARD: shard: …``, ``--wire: triton.wire: …``.
"""

import copy
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from orchestrator.config.problems import ConfigError, Location
from orchestrator.tracing.settings import OTLP_ENDPOINT_ENV

ENV_SETTINGS: Final[Mapping[str, tuple[str, ...]]] = {
    "PITCHSIDE_TRITON_URL": ("triton", "urls"),
    "PITCHSIDE_SHARD": ("shard",),
    "PITCHSIDE_STATE_DIR": ("delivery", "state_dir"),
}
"""Environment variables and the setting each one sets (``PITCHSIDE_TRITON_URL``: comma-separated URLs)."""
ENV_FALLBACKS: Final[Mapping[str, tuple[str, ...]]] = {OTLP_ENDPOINT_ENV: ("tracing", "otlp_endpoint")}
"""Variables of other conventions that fill in a setting only where neither the file nor a flag gave it."""
NO_FILE: Final = "defaults"


@dataclass(frozen=True)
class Override:
    """One setting given outside the file: ``path`` into the TOML layout, the value as TOML would hold it."""

    path: tuple[str, ...]
    value: Any
    origin: str
    """The flag or variable it came from, named in any problem with it."""


@dataclass
class Merged:
    """The merged mapping and, for each value set outside the file, where it came from."""

    data: dict[str, Any]
    file_label: str = NO_FILE
    base_dir: Path = Path(".")
    origins: dict[tuple[str, ...], str] = field(default_factory=dict)

    def origin_of(self, loc: Location) -> str:
        keys = tuple(str(part) for part in loc if isinstance(part, str))
        for end in range(len(keys), 0, -1):
            if keys[:end] in self.origins:
                return self.origins[keys[:end]]
        return self.file_label

    def base_for(self, *path: str) -> Path:
        """Relative paths in the file resolve against its folder; given elsewhere, against the working directory."""
        return self.base_dir if self.origin_of(path) == self.file_label else Path(".")


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def merge(
    file_data: Mapping[str, Any],
    overrides: Iterable[Override] = (),
    *,
    file_label: str = NO_FILE,
    base_dir: Path = Path("."),
    fallbacks: Iterable[Override] = (),
) -> Merged:
    """The file, then each override in order (a later one wins); a fallback only fills a gap."""
    merged = Merged(copy.deepcopy(dict(file_data)), file_label, base_dir)
    for override in overrides:
        _set(merged, override)
    for fallback in fallbacks:
        if _get(merged.data, fallback.path) is None:
            _set(merged, fallback)
    return merged


def env_overrides(environ: Mapping[str, str]) -> list[Override]:
    found = []
    for name, path in ENV_SETTINGS.items():
        value = environ.get(name, "")
        if value:
            setting: Any = [u for u in value.replace(",", " ").split()] if path == ("triton", "urls") else value
            found.append(Override(path, setting, name))
    return found


def env_fallbacks(environ: Mapping[str, str]) -> list[Override]:
    return [Override(path, environ[name], name) for name, path in ENV_FALLBACKS.items() if environ.get(name)]


def _set(merged: Merged, override: Override) -> None:
    table = merged.data
    for key in override.path[:-1]:
        child = table.get(key)
        if not isinstance(child, dict):
            child = table[key] = {}
        table = child
    table[override.path[-1]] = override.value
    merged.origins[override.path] = override.origin


def _get(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = data
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
