"""Write a file atomically: into a temporary file beside it, then ``os.replace`` onto the name.

A reader sees the old file or the new one, never a half-written one, even when the writer crashes
or is interrupted. The new file gets the usual permissions (``0o666`` minus the umask).
:func:`atomic_link` gives a second name to a finished file the same way, without a second copy.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(file)`` on a temporary file in ``path``'s folder, then move it to ``path``.

    Raises:
        OSError: the file could not be written (a full disk, no permission); the message names
            ``path``, which the OS's own does not, and keeps its errno.
        RuntimeError: ``write`` failed inside torch (``torch.save`` reports a full disk as
            ``enforce fail at inline_container.cc``); the message names ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(err.errno, f"{path} could not be written: {err.strerror or err}") from err
    except RuntimeError as err:
        Path(tmp).unlink(missing_ok=True)
        free = shutil.disk_usage(path.parent).free
        raise RuntimeError(
            f"{path} could not be written ({free:,} bytes free on its disk): "
            f"{' '.join(str(err).split())}"
        ) from err
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_link(source: str | Path, path: str | Path) -> Path:
    """Make ``path`` name the same bytes as ``source``, replacing ``path`` atomically.

    A hard link when the filesystem allows one (no extra disk space; a later ``os.replace`` onto
    ``source`` leaves ``path`` untouched), else a copy.
    """
    source, path = Path(source), Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        os.unlink(tmp)
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
