"""One-line errors for the command-line tools: what the user's input caused, never a traceback.

A tool catches :data:`USER_ERRORS`, prints :func:`one_line` and exits with 2; its ``--debug`` flag
lets the exception through, traceback and all. The library's own messages name the key, file or
parameter and say what was expected.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping

#: What bad input raises: ``ValueError`` (``ConfigError``, ``CheckpointError``, a bad label),
#: ``OSError`` (a missing folder or file, an unreadable image) and ``RuntimeError`` (weights that
#: cannot be had, a loss that is not finite).
USER_ERRORS = (ValueError, OSError, RuntimeError)
#: The exit status of a run stopped by its input.
EXIT_USAGE = 2


def one_line(prog: str, err: BaseException) -> str:
    """``"<prog>: error: <message>"`` on one line (the message's white space folded)."""
    return f"{prog}: error: {' '.join(str(err).split()) or type(err).__name__}"


def report(prog: str, err: BaseException, status: int = EXIT_USAGE) -> int:
    """Print :func:`one_line` to stderr and return ``status``."""
    print(one_line(prog, err), file=sys.stderr)
    return status


def run_reported(
    prog: str,
    action: Callable[[], int],
    *,
    debug: bool = False,
    statuses: Mapping[type[BaseException], int] | None = None,
) -> int:
    """``action()``'s exit status, or :func:`report`'s when it raises one of
    :data:`USER_ERRORS`; with ``debug`` the exception goes through, traceback and all.

    ``statuses`` gives some errors another exit status than :data:`EXIT_USAGE` (``reid train``:
    1 for a loss that is not finite, which is no fault of the input)."""
    try:
        return action()
    except USER_ERRORS as err:
        if debug:
            raise
        status = next((s for kind, s in (statuses or {}).items() if isinstance(err, kind)), None)
        return report(prog, err, EXIT_USAGE if status is None else status)
