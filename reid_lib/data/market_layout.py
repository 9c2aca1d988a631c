"""Reading any dataset stored in the Market-1501 folder layout (Market-1501, DukeMTMC-reID, the
synthetic set).

The layout (what the official archives extract to)::

    <root>/
      bounding_box_train/   training images
      bounding_box_test/    gallery images (pid 0 = distractor, pid -1 = junk)
      query/                query images
      gt_bbox/              optional (Market-1501): hand-drawn boxes, the multi-query images

Each dataset supplies a ``parse`` function turning an image path into a :class:`Record` (its naming
rule). ``pid == -1`` junk images are dropped wherever they are and counted; ``pid == 0``
distractors are only allowed in the gallery.

We also read a *flat* folder of crops (all images in one folder, as in the project's real-crops
fixtures) with a demo protocol of our own, which is not a benchmark protocol: identities seen in two
or more cameras are test identities, the first image (by name) of each is its query and its other
images join the gallery with the distractors; identities seen in one camera are training data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from reid_lib.data.layout import list_images, locate_dataset, resolve_root
from reid_lib.data.records import DISTRACTOR_PID, JUNK_PID, Record, ReIDDataset

ParseName = Callable[[Path], Record]

MARKET_STYLE_LAYOUT = """<root>/
  bounding_box_train/   training images
  bounding_box_test/    gallery images (pid 0 = distractor, pid -1 = junk)
  query/                query images
  gt_bbox/              optional: multi-query images (Market-1501 only)"""

REQUIRED_FOLDERS = ("bounding_box_train", "bounding_box_test", "query")


def read_folder(folder: Path, parse: ParseName) -> tuple[list[Record], int]:
    """Records of the images in ``folder`` with junk (pid -1) dropped, and how many were dropped."""
    records = [parse(path) for path in list_images(folder)]
    kept = [r for r in records if r.pid != JUNK_PID]
    return kept, len(records) - len(kept)


def _reject_distractors(records: Iterable[Record], folder: Path) -> None:
    bad = next((r for r in records if r.pid == DISTRACTOR_PID), None)
    if bad is not None:
        raise ValueError(
            f"{bad.path}: distractor images (pid 0) belong in bounding_box_test/ only, "
            f"found one in {folder}"
        )


def split_flat_folder(records: Sequence[Record]) -> tuple[list[Record], list[Record], list[Record]]:
    """(train, query, gallery) of a flat folder under our demo protocol (see the module doc)."""
    cameras: dict[int, set[int]] = defaultdict(set)
    for r in records:
        cameras[r.pid].add(r.camid)
    test_ids = {pid for pid, cams in cameras.items() if len(cams) >= 2 and pid != DISTRACTOR_PID}
    train, query, gallery = [], [], []
    queried: set[int] = set()
    for r in sorted(records, key=lambda r: r.path.name):
        if r.pid == DISTRACTOR_PID or r.pid in queried:
            gallery.append(r)
        elif r.pid not in test_ids:
            train.append(r)
        else:
            query.append(r)
            queried.add(r.pid)
    return train, query, gallery


def load_market_style(
    root: str | Path,
    *,
    name: str,
    parse: ParseName,
    known_subfolders: Sequence[str] = (),
    multi_query: bool = False,
    flat: bool = False,
) -> ReIDDataset:
    """Load a dataset in the Market-1501 layout (or a flat folder, see the module doc).

    Args:
        root: the dataset folder (or its parent, when it holds one of ``known_subfolders``).
        name: dataset name for the result and for messages.
        parse: the dataset's naming rule, turning a path into a record.
        known_subfolders: folder names the official archive extracts to.
        multi_query: also read ``gt_bbox/`` images of the query identities as ``multi_query``.
        flat: ``root`` is one folder of crops; apply our demo protocol.

    Raises:
        DatasetLayoutError: a folder is missing (the message shows the layout).
        BadNameError: a file name breaks the naming rule.
        EmptySplitError: a split ends up empty.
    """
    if flat:
        folder, _ = locate_dataset(root, "<root>/  one folder of crops, names as in the dataset")
        records, junk = read_folder(folder, parse)
        train, query, gallery = split_flat_folder(records)
        return ReIDDataset(
            name,
            folder,
            train,
            query,
            gallery,
            num_junk_dropped=junk,
            protocol="flat folder, our demo protocol: ids seen in 2+ cameras are test ids, "
            "their first image is the query",
        )
    base = resolve_root(
        root, REQUIRED_FOLDERS, MARKET_STYLE_LAYOUT, known_subfolders=known_subfolders
    )
    train, junk_train = read_folder(base / "bounding_box_train", parse)
    query, junk_query = read_folder(base / "query", parse)
    gallery, junk_gallery = read_folder(base / "bounding_box_test", parse)
    _reject_distractors(train, base / "bounding_box_train")
    _reject_distractors(query, base / "query")
    extra_queries: list[Record] = []
    if multi_query:
        resolve_root(base, ("gt_bbox",), MARKET_STYLE_LAYOUT)
        query_ids = {r.pid for r in query}
        extra_queries = [r for r in read_folder(base / "gt_bbox", parse)[0] if r.pid in query_ids]
    return ReIDDataset(
        name,
        base,
        train,
        query,
        gallery,
        multi_query=extra_queries,
        num_junk_dropped=junk_train + junk_query + junk_gallery,
        protocol="bounding_box_train / query / bounding_box_test"
        + (" + gt_bbox multi-query" if multi_query else ""),
    )
