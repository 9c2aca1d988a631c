"""An exclusive lock on a file, held by one process at a time (``fcntl.flock``).

The operating system releases the lock when its holder exits, however it exits, so a crashed
run never leaves a stale lock behind. Used for the run folders (one writer per run) and for the
generation of a synthetic set (one generator per set).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class LockedError(RuntimeError):
    """Another process holds the lock; the message names the file and that process."""


@contextmanager
def exclusive_lock(path: str | Path, *, wait: bool, what: str = "") -> Iterator[Path]:
    """Hold an exclusive lock on ``path`` (created if missing) for the ``with`` block.

    Args:
        path: the lock file; it records the holder's process id.
        wait: block until the lock is free; otherwise raise at once.
        what: what the lock protects, for the error message.

    Raises:
        LockedError: ``wait`` is False and another process holds the lock.
        OSError: the lock file could not be written (a full disk); the message names it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise LockedError(
                f"{what or path} is in use by another process (pid {holder}, lock {path}); "
                "wait for it to finish or choose another run.name"
            ) from None
        try:
            handle.truncate(0)
            # Unbuffered, so that closing the file has nothing left to write (a full disk would
            # fail there again, with no file named).
            os.write(handle.fileno(), str(os.getpid()).encode())
        except OSError as err:  # a full disk: the OS's message names no file
            raise OSError(
                err.errno, f"lock file {path} could not be written: {err.strerror}"
            ) from err
        try:
            yield path
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
