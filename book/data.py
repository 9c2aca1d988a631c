"""The dataset a chapter works on: the synthetic set of its profile, or a real set.

The synthetic set is generated once per (preset, seed) into ``_build/data`` and reused; a real
set is read from the chapter's ``data_root`` (the chapters never copy real images anywhere).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from book.chapter import Chapter
from reid_lib.data import Record, ReIDDataset, build_dataset
from reid_lib.data.loaders import read_image
from reid_lib.data.synthetic import MANIFEST, generate_synthetic
from reid_lib.data.transforms import build_test_transforms

CACHE = Path("_build") / "data"
# Where the small real benchmarks sit under data_root (the layout of the shared data folder) and
# the seeded protocol splits the loaders write (kept out of the read-only data folder).
SMALL_REAL_SETS = {
    "viper": "peta-reid/VIPeR",
    "prid2011": "peta-reid/PRID",
    "grid": "peta-reid/GRID",
    "caviar4reid": "peta-reid/CAVIAR4REID",
}


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
    if name in SMALL_REAL_SETS:
        return build_dataset(
            name, ch.data_root / SMALL_REAL_SETS[name], splits_dir=CACHE / "splits"
        )
    return build_dataset(name, ch.data_root)


def image_batch(
    records: Sequence[Record], image_size: tuple[int, int]
) -> tuple[torch.Tensor, list[np.ndarray]]:
    """The test-transformed batch ``[N, 3, H, W]`` of ``records`` and the images as RGB arrays
    of the same size (for drawing)."""
    transform = build_test_transforms(image_size)
    pictures = [read_image(r.path) for r in records]
    batch = torch.stack([transform(p) for p in pictures])
    shown = [np.asarray(p.resize(image_size[::-1])) for p in pictures]
    return batch, shown
