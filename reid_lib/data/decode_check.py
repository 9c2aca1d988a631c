"""Decode the test images once before training, so that a corrupt one fails at the start.

Evaluation reads the query and gallery images after an epoch; a corrupt one found there would
cost the epoch's time. :func:`check_decodable` decodes them before the first epoch, and records
each image that decoded (path, size, modification time) in a cache file, so that a later run
decodes only new or changed files: the check costs seconds after the first time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from reid_lib.atomic_write import atomic_write
from reid_lib.data.loaders import ImageReadError
from reid_lib.data.records import Record
from reid_lib.data.verify import check_image


def _key(path: Path) -> str:
    status = path.stat()
    return f"{path.resolve()}|{status.st_size}|{status.st_mtime_ns}"


def check_decodable(records: Sequence[Record], cache: str | Path) -> int:
    """Decode every image of ``records`` not in ``cache``; return how many were decoded now.

    Raises:
        ImageReadError: images that are missing or do not decode (the first named, all counted);
            nothing is added to the cache then.
    """
    cache = Path(cache)
    try:
        known = set(json.loads(cache.read_text()))
    except (OSError, ValueError):
        known = set()
    problems, checked = [], set()
    for record in records:
        path = Path(record.path)
        if not path.is_file():
            problems.append(f"{path}: no such file")
            continue
        key = _key(path)
        if key in known:
            continue
        reason = check_image(path)
        if reason is None:
            checked.add(key)
        else:
            problems.append(f"{path}: {reason}")
    if problems:
        raise ImageReadError(
            f"{len(problems)} test image(s) cannot be read, checked before training: "
            f"{problems[0]}{' (and more)' if len(problems) > 1 else ''}"
        )
    if checked:
        text = json.dumps(sorted(known | checked))
        atomic_write(cache, lambda fh: fh.write(text.encode()))
    return len(checked)
