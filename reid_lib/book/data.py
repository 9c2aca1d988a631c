"""The datasets a chapter shows: the synthetic set of its profile, or a real set under data_root.

Loading goes through the engine (``reid_lib.engine.experiment.load_dataset``), so a chapter sees
exactly what a training run of the same config sees; the synthetic set is generated once under
``_build/runs/data`` and reused. Real images are read where they are, never copied.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from reid_lib.book.chapter import Chapter
from reid_lib.data import Record, ReIDDataset
from reid_lib.data.fetch import fetch
from reid_lib.data.loaders import build_test_loader, read_image
from reid_lib.data.registry import dataset_folder
from reid_lib.data.transforms import build_test_transforms
from reid_lib.engine.config import Config, apply_overrides
from reid_lib.engine.experiment import dataset_root, load_dataset
from reid_lib.engine.figure_data import FigureData
from reid_lib.metrics import extract_features


def dataset_config(ch: Chapter, name: str | None = None) -> Config:
    """The chapter's config, reading dataset ``name`` (default: the chapter's own).

    Raises:
        ValueError: a real dataset was asked for without a ``data_root``.
    """
    name = name or ch.config.data.dataset
    if name == "synthetic":
        return apply_overrides(ch.config, ["data.dataset=synthetic", "data.root=null"])
    if ch.data_root is None:
        raise ValueError(
            f"dataset {name!r} needs data_root (a papermill parameter or $REID_DATA_ROOT)"
        )
    root = ch.data_root / dataset_folder(name)
    return apply_overrides(ch.config, [f"data.dataset={name}", f"data.root={root}"])


def prepare_data(ch: Chapter) -> Path:
    """Make sure the chapter's dataset is where the chapter reads it; return that folder.

    The synthetic set is generated there on first use. A real set missing from
    ``data_root/<its folder>`` is downloaded, checked and unpacked into it
    (:func:`reid_lib.data.fetch.fetch`); a set that cannot be downloaded raises with how to
    obtain it.

    Raises:
        ValueError: a real dataset without a ``data_root``.
        reid_lib.data.fetch.ManualStepRequired: a set that needs a manual download.
    """
    config = dataset_config(ch)
    if config.data.dataset == "synthetic":
        folder = dataset_root(config)
        print(f"synthetic set: generated and checked in {folder}")
        return folder
    folder = Path(config.data.root)
    if folder.is_dir():
        print(f"{config.data.dataset}: found in {folder}")
        return folder
    return fetch(config.data.dataset, ch.data_root)


def run_images_dir(ch: Chapter, data: FigureData) -> Path | None:
    """The folder that holds the images of a figure-data file's dataset, if this chapter has it:
    the synthetic set of the run's config in ``ch.runs_dir`` (generated there on first use, as a
    run generates it), or the real set under ``data_root``; None otherwise (a figure that needs
    the pictures is then not drawn: ``reid_lib.book.trained_figures.with_pictures``)."""
    config = data.config
    if config.data.dataset == "synthetic":
        return dataset_root(
            apply_overrides(config, [f"run.output_dir={ch.runs_dir}", "data.root=null"])
        )
    if ch.data_root is None:
        return None
    folder = ch.data_root / dataset_folder(config.data.dataset)
    return folder if folder.is_dir() else None


def chapter_dataset(
    ch: Chapter, name: str | None = None, *, multi_query: bool = False
) -> ReIDDataset:
    """Dataset ``name`` (default: the chapter's ``dataset`` parameter), as the engine loads it.

    ``multi_query`` also reads the multi-query images where the dataset has them (Market-1501's
    layout, which the synthetic set follows).
    """
    config = dataset_config(ch, name)
    if multi_query:
        config = apply_overrides(config, ["eval.multi_query=true"])
    return load_dataset(config)


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


def embed_records(
    model: torch.nn.Module, records: Sequence[Record], ch: Chapter, *, flip: bool = True
) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """``(features [N, D], pids [N], camids [N])`` of ``records`` under ``model`` at the
    chapter's image size, with horizontal-flip averaging unless ``flip`` is False."""
    loader = build_test_loader(records, image_size=ch.image_size, batch_size=64)
    return extract_features(model, loader, flip=flip, device=ch.device, progress=False)
