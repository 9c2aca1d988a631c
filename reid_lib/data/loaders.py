"""Reading images of :class:`~reid_lib.data.records.Record` lists and batching them.

Every batch, train and test, is a dict::

    {"images": FloatTensor[N, 3, H, W], "pids": LongTensor[N], "camids": LongTensor[N],
     "paths": list[str]}

Train pids are the relabelled ``0..N-1`` labels; query and gallery pids are the original ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import DataLoader, Dataset

from reid_lib.data.records import Record, ReIDDataset
from reid_lib.data.sampler import PKSampler
from reid_lib.data.transforms import build_test_transforms, build_train_transforms


class ImageReadError(OSError):
    """An image file is missing, unreadable or corrupt."""


def read_image(path: str | Path) -> Image.Image:
    """Open ``path`` as an RGB image, decoding it fully (a truncated file fails here).

    Raises:
        ImageReadError: the file is missing or cannot be decoded; the message names the file.
    """
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"cannot read image {path}: {exc}") from exc


class RecordImageDataset(Dataset):
    """A torch dataset over records: item ``i`` is ``{"image", "pid", "camid", "path"}``.

    Args:
        records: the images.
        transform: maps a PIL image to a tensor (e.g. :func:`build_test_transforms`).
    """

    def __init__(self, records: Sequence[Record], transform: Callable[[Image.Image], Any]) -> None:
        self.records = list(records)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, Any]:
        record = self.records[index]
        return {
            "image": self.transform(read_image(record.path)),
            "pid": record.pid,
            "camid": record.camid,
            "path": str(record.path),
        }


def collate_records(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Items of :class:`RecordImageDataset` -> ``{"images", "pids", "camids", "paths"}``."""
    return {
        "images": torch.stack([item["image"] for item in items]),
        "pids": torch.tensor([item["pid"] for item in items], dtype=torch.long),
        "camids": torch.tensor([item["camid"] for item in items], dtype=torch.long),
        "paths": [item["path"] for item in items],
    }


def build_train_loader(
    records: Sequence[Record],
    *,
    image_size: Sequence[int] = (256, 128),
    num_ids: int = 16,
    num_instances: int = 4,
    seed: int = 0,
    num_replicas: int = 1,
    rank: int = 0,
    num_workers: int = 0,
    pin_memory: bool = False,
    transform: Callable[[Image.Image], Any] | None = None,
    one_source_per_batch: bool = False,
) -> DataLoader:
    """Training loader: P x K batches (:class:`PKSampler`) of train-transformed images.

    Call ``loader.sampler.set_epoch(epoch)`` before each epoch. Random augmentations in worker
    processes are seeded from ``seed`` and ``rank`` through the loader's generator; with
    ``num_workers=0`` they use torch's global generator (seed it with ``torch.manual_seed``).

    Args:
        records: training records (relabelled pids).
        image_size: (height, width) of the batches.
        num_ids, num_instances: P and K of the global batch.
        seed: seed of the sampler and of the workers' augmentations.
        num_replicas, rank: sharding across processes (each rank gets P / num_replicas ids).
        num_workers, pin_memory: passed to ``DataLoader``.
        transform: overrides :func:`build_train_transforms` of ``image_size``.
        one_source_per_batch: draw each batch from the records of one ``extra["source"]`` (the
            sets of a joint training set).
    """
    sampler = PKSampler(
        [r.pid for r in records],
        num_ids,
        num_instances,
        seed=seed,
        num_replicas=num_replicas,
        rank=rank,
        sources=[r.extra["source"] for r in records] if one_source_per_batch else None,
    )
    return DataLoader(
        RecordImageDataset(records, transform or build_train_transforms(image_size)),
        batch_size=sampler.batch_size,
        sampler=sampler,
        drop_last=True,
        num_workers=num_workers,
        pin_memory=pin_memory,
        collate_fn=collate_records,
        generator=torch.Generator().manual_seed(seed * 1000 + rank),
        persistent_workers=num_workers > 0,
    )


def build_test_loader(
    records: Sequence[Record],
    *,
    image_size: Sequence[int] = (256, 128),
    batch_size: int = 128,
    num_workers: int = 0,
    pin_memory: bool = False,
) -> DataLoader:
    """Loader over query or gallery records in their order, with test transforms."""
    return DataLoader(
        RecordImageDataset(records, build_test_transforms(image_size)),
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        pin_memory=pin_memory,
        collate_fn=collate_records,
    )


def build_test_loaders(
    dataset: ReIDDataset,
    *,
    image_size: Sequence[int] = (256, 128),
    batch_size: int = 128,
    num_workers: int = 0,
    pin_memory: bool = False,
) -> tuple[DataLoader, DataLoader]:
    """(query loader, gallery loader) of ``dataset``."""
    options = {
        "image_size": image_size,
        "batch_size": batch_size,
        "num_workers": num_workers,
        "pin_memory": pin_memory,
    }
    return (
        build_test_loader(dataset.query, **options),
        build_test_loader(dataset.gallery, **options),
    )
