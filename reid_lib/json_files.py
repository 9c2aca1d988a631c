"""Reading a JSON file with an error that names it.

``json.loads`` reports ``Expecting value: line 1 column 1 (char 0)`` and no file; the library's
records (manifests, figure data, backbone records, chapter results) are read with
:func:`read_json` instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_json(path: str | Path, what: str = "file") -> Any:
    """The JSON document in ``path``; ``what`` says what the file should be, for the message.

    Raises:
        ValueError: the file is not valid JSON (it and ``what`` are named).
        OSError: the file cannot be read (the message names it).
    """
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{what} {path}: not valid JSON ({err}); delete or restore it") from None
