"""Private files: the data folder is 0700 and every file OpsLedger writes there 0600,
whatever the caller's umask.

The event store and the read models hold the whole history (emails, feedback,
role-change reasons, idempotency records): no other account on the host may read
them. SQLite creates a database's ``-wal`` and ``-shm`` files itself, with the mode
of the database file (and forces that mode against the umask), so a database file
created 0600 before SQLite first opens it keeps its companions private too. Files
and folders left readable by an earlier version are tightened when opened.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

FOLDER_MODE = 0o700
FILE_MODE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
"""The files SQLite keeps beside a database (WAL mode: ``-wal`` and ``-shm``)."""


def _tighten(path: Path, mode: int) -> None:
    try:
        current = stat.S_IMODE(path.stat().st_mode)
        if current != mode:
            os.chmod(path, mode)
    except FileNotFoundError:
        return
    except PermissionError as e:  # not ours: say so, do not refuse to start
        log.warning("cannot make %s private (mode %o): %s", path, mode, e)


def private_dir(path: Path | str) -> Path:
    """Create the folder ``path`` (and its parents) if needed, and make it 0700."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    _tighten(folder, FOLDER_MODE)
    return folder


def private_file(path: Path | str) -> Path:
    """Create the (empty) file ``path`` 0600 unless it exists, and make it 0600."""
    file = Path(path)
    with contextlib.suppress(FileExistsError):
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        os.close(fd)
    _tighten(file, FILE_MODE)
    return file


def private_sqlite(path: Path | str) -> Path:
    """Prepare an SQLite database file to be opened: the file 0600 (an empty file is an
    empty database), and any ``-wal``/``-shm``/``-journal`` file beside it too.

    ``:memory:`` and ``file:`` URIs are left alone.
    """
    name = str(path)
    if name in ("", ":memory:") or name.startswith("file:"):
        return Path(name)
    database = private_file(name)
    for suffix in SQLITE_COMPANIONS:
        _tighten(Path(name + suffix), FILE_MODE)
    return database
