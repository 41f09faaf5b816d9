"""Tie the embedded tritonserver's life to its launcher, and clean up the shared memory it leaves behind.

The server runs in its own session (so that stopping it can kill its whole process group, model stubs
included), which also means a SIGKILL of the launcher's group never reaches it: it would go on serving with no
owner. :func:`die_with_parent` makes the kernel kill it when its launcher dies (``PR_SET_PDEATHSIG``).

Triton's Python backend keeps one ``/dev/shm`` region per model instance (tens of MB) and unlinks them only on a
clean exit. Each launch names its regions with :func:`shm_prefix` (launcher pid + a random token), so that
:func:`remove_shm_regions` removes exactly that launch's regions when it stops, and
:func:`remove_orphaned_shm_regions` removes those of launchers that died without stopping, never another live
server's.
"""

import contextlib
import ctypes
import os
import re
import secrets
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Final

SHM_DIR: Final = Path("/dev/shm")
SHM_PREFIX_STEM: Final = "pitchside_triton"
_PR_SET_PDEATHSIG: Final = 1
_OWNED_REGION = re.compile(rf"^{SHM_PREFIX_STEM}_(?P<pid>\d+)_[0-9a-f]+_")
"""Triton appends the region's own id to the prefix as it is, hence the prefix's trailing underscore."""


def shm_prefix() -> str:
    """The ``shm-region-prefix-name`` for one launch: ``pitchside_triton_<launcher pid>_<token>_``."""
    return f"{SHM_PREFIX_STEM}_{os.getpid()}_{secrets.token_hex(4)}_"


def remove_shm_regions(prefix: str, shm_dir: Path = SHM_DIR) -> list[Path]:
    """Remove the regions named ``prefix…`` (one launch's); returns what was removed."""
    removed = []
    for region in shm_dir.glob(f"{prefix}*"):
        with contextlib.suppress(FileNotFoundError):
            region.unlink()
            removed.append(region)
    return removed


def remove_orphaned_shm_regions(shm_dir: Path = SHM_DIR) -> list[Path]:
    """Remove regions of launches whose launcher process no longer exists; returns what was removed."""
    removed = []
    for region in shm_dir.glob(f"{SHM_PREFIX_STEM}_*"):
        owner = _OWNED_REGION.match(region.name)
        if owner is None or _alive(int(owner["pid"])):
            continue
        with contextlib.suppress(FileNotFoundError):
            region.unlink()
            removed.append(region)
    return removed


def die_with_parent() -> Callable[[], None]:
    """A ``preexec_fn`` that makes the child receive SIGKILL when the thread that started it exits.

    libc's ``prctl`` is looked up here, before the fork, so the child only makes the call. The child exits at
    once if its parent is already gone (the launcher died between fork and prctl).
    """
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return preexec


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
