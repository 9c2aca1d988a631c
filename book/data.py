"""The dataset a chapter works on: the synthetic set of its profile, or a real set.

The synthetic set is generated once per (preset, seed) into ``_build/data`` and reused; a real
set is read from the chapter's ``data_root`` (the chapters never copy real images anywhere).
"""

from __future__ import annotations

import json
from pathlib import Path

from book.chapter import Chapter
from reid_lib.data import ReIDDataset, build_dataset
from reid_lib.data.synthetic import MANIFEST, generate_synthetic

CACHE = Path("_build") / "data"


def synthetic_root(preset: str, seed: int = 0, cache: Path = CACHE) -> Path:
    """Folder of the synthetic dataset ``preset`` drawn with ``seed``, generated on first use."""
    root = cache / f"synthetic-{preset}-seed{seed}"
    manifest = root / MANIFEST
    if not (manifest.is_file() and json.loads(manifest.read_text()).get("preset") == preset):
        generate_synthetic(root, preset=preset, seed=seed, overwrite=True)
    return root


def chapter_dataset(ch: Chapter, name: str | None = None) -> ReIDDataset:
    """Dataset ``name`` (default: the chapter's ``dataset`` parameter).

    Raises:
        ValueError: a real dataset was asked for without a ``data_root``.
    """
    name = name or ch.dataset
    if name == "synthetic":
        return build_dataset("synthetic", synthetic_root(ch.profile.synthetic_preset, ch.seed))
    if ch.data_root is None:
        raise ValueError(
            f"dataset {name!r} needs data_root (a papermill parameter or $REID_DATA_ROOT)"
        )
    return build_dataset(name, ch.data_root)
