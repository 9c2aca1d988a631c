"""The dataset interface every loader returns: image records split into train, query and gallery.

A :class:`Record` is one image: its path, person id (``pid``), camera id (``camid``) and optional
extra fields (sequence, frame, ...). A :class:`ReIDDataset` holds three lists of records.

Conventions (those of Market-1501, which all loaders follow):

- A distractor is a gallery image whose pid no query has. Market-1501, DukeMTMC-reID and GRID's
  official archive number them ``0`` (:data:`DISTRACTOR_PID`), and their loaders keep pid ``0``
  out of the query set. In VIPeR and MSMT17, ``0`` is the first person and is queried like any
  other: the metrics give pid ``0`` no special meaning.
- ``pid == -1`` marks a junk image: loaders drop it and report how many they dropped.
- Training pids are relabelled to ``0..N-1`` (sorted by original pid); the original pid is kept in
  ``extra["orig_pid"]``. Query and gallery keep their original pids, so that evaluation can compare
  them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPLITS = ("train", "query", "gallery")
DISTRACTOR_PID = 0
JUNK_PID = -1


class EmptySplitError(ValueError):
    """A dataset split that must hold images holds none."""


@dataclass(frozen=True)
class Record:
    """One image of a ReID dataset.

    Attributes:
        path: path of the image file.
        pid: person id (relabelled 0..N-1 in ``train``; original id in ``query``/``gallery``).
        camid: camera id, 0-based.
        extra: further fields a dataset knows, e.g. ``{"seq": 1, "frame": 151}``.
    """

    path: Path
    pid: int
    camid: int
    extra: Mapping[str, Any] = field(default_factory=dict)


def relabel(records: Iterable[Record]) -> list[Record]:
    """Map pids of ``records`` to ``0..N-1`` in order of original pid; keep it in ``orig_pid``."""
    records = list(records)
    mapping = {pid: label for label, pid in enumerate(sorted({r.pid for r in records}))}
    return [
        dataclasses.replace(r, pid=mapping[r.pid], extra={**r.extra, "orig_pid": r.pid})
        for r in records
    ]


def _split_counts(records: Sequence[Record]) -> tuple[int, int, int]:
    """(ids, images, cameras) of one split."""
    return len({r.pid for r in records}), len(records), len({r.camid for r in records})


class ReIDDataset:
    """Train, query and gallery records of one dataset (one protocol split, where there are many).

    Args:
        name: dataset name, e.g. ``"market1501"``.
        root: folder the dataset was read from.
        train, query, gallery: records; ``train`` is relabelled here, the others are kept as given.
        multi_query: optional extra query images (Market-1501's ``gt_bbox``), original pids.
        num_junk_dropped: how many ``pid == -1`` images the loader dropped.
        protocol: one line saying which evaluation protocol/split this is, shown by ``summary()``.
        allow_empty: splits that may be empty (e.g. ``("train",)`` for a test-only set).

    Raises:
        EmptySplitError: a split not named in ``allow_empty`` is empty.
    """

    def __init__(
        self,
        name: str,
        root: str | Path,
        train: Iterable[Record],
        query: Iterable[Record],
        gallery: Iterable[Record],
        *,
        multi_query: Iterable[Record] = (),
        num_junk_dropped: int = 0,
        protocol: str = "",
        allow_empty: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.root = Path(root)
        self.train = relabel(train)
        self.query = list(query)
        self.gallery = list(gallery)
        self.multi_query = list(multi_query)
        self.num_junk_dropped = num_junk_dropped
        self.protocol = protocol
        for split in SPLITS:
            if not getattr(self, split) and split not in allow_empty:
                raise EmptySplitError(
                    f"dataset {name!r} at {self.root}: the {split!r} split is empty; "
                    f"expected at least one image (check the folder layout)"
                )

    @property
    def num_train_pids(self) -> int:
        """Number of training identities (the classifier's output size)."""
        return len({r.pid for r in self.train})

    @property
    def num_cameras(self) -> int:
        """Number of distinct cameras over all splits."""
        return len({r.camid for split in SPLITS for r in getattr(self, split)})

    def summary(self) -> str:
        """Print and return a table of ids, images and cameras per split (the dataset's folder by
        its name: the table is shown on the book's pages, which show no machine's paths)."""
        lines = [
            f"Dataset {self.name} ({Path(self.root).name})",
            *([f"  protocol: {self.protocol}"] if self.protocol else []),
            f"  {'split':<12}{'ids':>8}{'images':>9}{'cameras':>9}",
        ]
        splits = [*SPLITS, "multi_query"] if self.multi_query else list(SPLITS)
        for split in splits:
            ids, images, cams = _split_counts(getattr(self, split))
            lines.append(f"  {split:<12}{ids:>8}{images:>9}{cams:>9}")
        if self.num_junk_dropped:
            lines.append(f"  junk images dropped (pid -1): {self.num_junk_dropped}")
        text = "\n".join(lines)
        print(text)
        return text
