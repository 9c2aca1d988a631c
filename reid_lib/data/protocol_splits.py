"""Seeded random identity splits for the small benchmarks (VIPeR, PRID 2011, GRID, CAVIAR4REID).

The literature evaluates these sets as the mean over 10 random train/test splits of the ids. We draw
them with :class:`random.Random` seeded by ``seed``, on every load, and keep them as JSON
(``<dataset>_splits_seed<seed>.json``) in a cache folder, never in the dataset folder, which a run
only reads: ``$REID_SPLITS_DIR/<folder>-<hash>/`` (default ``~/.cache/reid_lib/splits``). The
cached file is a check: a later load that draws other splits (another Python's ``random``, or an
edited file) stops with an error that names the file, instead of training on other splits
silently. A published split file, next to the data or in the loaders' ``splits_dir``, is read and
used as it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reid_lib.atomic_write import atomic_write
from reid_lib.data.records import Record, ReIDDataset

SPLITS_DIR_ENV = "REID_SPLITS_DIR"
DEFAULT_SPLITS_CACHE = Path.home() / ".cache" / "reid_lib" / "splits"


@dataclass(frozen=True)
class IdSplit:
    """One train/test partition of a dataset's identities (sorted, disjoint)."""

    train: tuple[int, ...]
    test: tuple[int, ...]


def random_id_splits(
    ids: Iterable[int], num_train: int, *, num_splits: int = 10, seed: int = 0
) -> list[IdSplit]:
    """``num_splits`` random partitions of ``ids`` with ``num_train`` training ids each.

    Raises:
        ValueError: ``num_train`` leaves no training or no test id, or ``num_splits < 1``.
    """
    ids = sorted(set(ids))
    if not 0 < num_train < len(ids):
        raise ValueError(
            f"num_train={num_train} must be between 1 and {len(ids) - 1} for {len(ids)} ids"
        )
    if num_splits < 1:
        raise ValueError(f"num_splits={num_splits} must be at least 1")
    rng = random.Random(seed)
    splits = []
    for _ in range(num_splits):
        chosen = set(rng.sample(ids, num_train))
        splits.append(
            IdSplit(tuple(i for i in ids if i in chosen), tuple(i for i in ids if i not in chosen))
        )
    return splits


def cache_dir_for(data_dir: Path) -> Path:
    """The cache folder for the splits of ``data_dir`` (one per data folder, by its path)."""
    base = Path(os.environ.get(SPLITS_DIR_ENV, DEFAULT_SPLITS_CACHE))
    digest = hashlib.sha1(str(data_dir.resolve()).encode()).hexdigest()[:10]
    return base / f"{data_dir.name}-{digest}"


def _read_splits(path: Path, ids: list[int], num_train: int, num_splits: int) -> list[IdSplit]:
    try:
        content = json.loads(path.read_text())
        splits = [IdSplit(tuple(s["train"]), tuple(s["test"])) for s in content["splits"]]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise ValueError(
            f"{path}: not a splits file ({err}); delete it to draw new splits"
        ) from err
    for number, split in enumerate(splits):
        if sorted(split.train + split.test) != ids or len(split.train) != num_train:
            raise ValueError(
                f"{path}: split {number} does not partition this dataset's {len(ids)} ids into "
                f"{num_train} train + {len(ids) - num_train} test ids; delete the file to draw "
                f"new splits"
            )
    if len(splits) != num_splits:
        raise ValueError(f"{path}: holds {len(splits)} splits, expected {num_splits}")
    return splits


def splits_file_name(dataset: str, seed: int) -> str:
    """The name of ``dataset``'s splits file for ``seed``, cached or published."""
    return f"{dataset}_splits_seed{seed}.json"


def write_splits(path: Path, dataset: str, seed: int, splits: list[IdSplit]) -> None:
    """Write ``splits`` (of ``dataset``, drawn for ``seed``) as a splits file at ``path``,
    atomically; :func:`load_or_make_splits` reads it back."""
    ids = sorted(splits[0].train + splits[0].test)
    content = {
        "dataset": dataset,
        "seed": seed,
        "num_train": len(splits[0].train),
        "ids": ids,
        "splits": [{"train": list(s.train), "test": list(s.test)} for s in splits],
    }
    text = json.dumps(content, indent=1) + "\n"
    atomic_write(path, lambda fh: fh.write(text.encode()))


def load_or_make_splits(
    data_dir: Path,
    dataset: str,
    ids: Iterable[int],
    num_train: int,
    *,
    num_splits: int = 10,
    seed: int = 0,
    splits_dir: str | Path | None = None,
) -> tuple[list[IdSplit], Path]:
    """The splits of ``dataset`` and the file that holds them.

    A file in ``splits_dir`` or next to the data (``<dataset>_splits_seed<seed>.json``) is
    published: it is used as it is. Otherwise the splits are drawn from ``seed``, written to
    ``splits_dir`` when given, else checked against the cached file of :func:`cache_dir_for`,
    which is written when it is missing. Nothing is ever written into ``data_dir``.

    Raises:
        ValueError: a file does not match the dataset's ids, ``num_train`` or ``num_splits``, or
            the cached file holds other splits than the seed draws (each names the file).
    """
    ids = sorted(set(ids))
    file_name = splits_file_name(dataset, seed)
    given = Path(splits_dir) / file_name if splits_dir is not None else None
    for published in (given, data_dir / file_name):
        if published is not None and published.is_file():
            return _read_splits(published, ids, num_train, num_splits), published
    splits = random_id_splits(ids, num_train, num_splits=num_splits, seed=seed)
    path = given or cache_dir_for(data_dir) / file_name
    if path.is_file():
        if _read_splits(path, ids, num_train, num_splits) != splits:
            raise ValueError(
                f"{path}: holds other {dataset} splits than seed {seed} draws now (another "
                "Python's random module, or an edited file); delete it to keep the new ones, or "
                "pass its folder as splits_dir to use it as published"
            )
        return splits, path
    write_splits(path, dataset, seed, splits)
    return splits, path


def select_split(splits: list[IdSplit], split_index: int, path: Path) -> IdSplit:
    """``splits[split_index]``, with an error naming the file when the index is out of range."""
    if not 0 <= split_index < len(splits):
        raise ValueError(
            f"split_index={split_index} is out of range: {path} holds {len(splits)} splits"
        )
    return splits[split_index]


def half_split(
    data_dir: Path, dataset: str, ids: Iterable[int], split_index: int, **options: Any
) -> tuple[IdSplit, str]:
    """Split ``split_index`` of the standard half/half id splits, and a line that describes it.

    The splits are read or drawn and saved by :func:`load_or_make_splits` (``options``:
    ``num_splits``, ``seed``, ``splits_dir``) with half of ``ids`` (rounded down) for training; the
    description names the index, the count and the JSON file.
    """
    ids = set(ids)
    splits, path = load_or_make_splits(data_dir, dataset, ids, len(ids) // 2, **options)
    split = select_split(splits, split_index, path)
    # The file's name, not its path: the line is shown on the book's pages.
    return split, f"split {split_index} of {len(splits)} ({path.name})"


def camera_pair_dataset(
    name: str, base: Path, records: list[Record], test: set[int], protocol: str
) -> ReIDDataset:
    """The two-camera protocol: ids outside ``test`` train; the ``test`` ids' camera-0 images are
    the queries and their camera-1 images the gallery."""
    return ReIDDataset(
        name,
        base,
        train=[r for r in records if r.pid not in test],
        query=[r for r in records if r.pid in test and r.camid == 0],
        gallery=[r for r in records if r.pid in test and r.camid == 1],
        protocol=protocol,
    )
