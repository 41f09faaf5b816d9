"""Files that hold undelivered events (journal segments, dead letters): readable by the owner only.

Events can carry what a feed's consumers may see but the machine's other users may not, so these files are
created 0600 (and an older file found 0644 is narrowed) whatever the process umask; their directories 0700.
"""

import os
from pathlib import Path
from typing import BinaryIO, Final

PRIVATE_FILE_MODE: Final = 0o600
PRIVATE_DIR_MODE: Final = 0o700


def open_private(path: Path, *, truncate: bool = False) -> BinaryIO:
    """``path`` opened for binary appending (or rewriting with ``truncate``), created 0600 if missing."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if truncate else os.O_APPEND) | os.O_CLOEXEC
    fd = os.open(path, flags, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        return os.fdopen(fd, "wb" if truncate else "ab")
    except BaseException:
        os.close(fd)
        raise


def make_private_dir(directory: Path) -> None:
    """Create ``directory`` (and missing parents) with the new leaf 0700; an existing one is left as it is."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    try:
        directory.mkdir(mode=PRIVATE_DIR_MODE)
    except FileExistsError:
        return
