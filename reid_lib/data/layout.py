"""Finding a dataset's folders and image files, with errors that show the expected layout."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


class DatasetLayoutError(FileNotFoundError):
    """A dataset folder is missing or not laid out as its loader expects."""


def resolve_root(
    root: str | Path, required: Sequence[str], layout: str, *, known_subfolders: Sequence[str] = ()
) -> Path:
    """The folder that holds all of ``required``: ``root`` itself or one of its known subfolders.

    ``known_subfolders`` are the folder names the official archives extract to (e.g.
    ``Market-1501-v15.09.15``), so that both ``data/`` and ``data/Market-1501-v15.09.15`` work.

    Raises:
        DatasetLayoutError: no candidate holds every required folder; the message names the first
            missing folder under ``root`` and shows ``layout``.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetLayoutError(
            f"dataset folder {root} does not exist; expected layout:\n{layout}"
        )
    for candidate in [root, *(root / name for name in known_subfolders)]:
        if all((candidate / name).is_dir() for name in required):
            return candidate
    missing = next(name for name in required if not (root / name).is_dir())
    raise DatasetLayoutError(
        f"folder {root / missing} is missing; expected layout:\n{layout}"
        + (f"\n(also looked inside {', '.join(known_subfolders)})" if known_subfolders else "")
    )


def locate_dataset(
    root: str | Path,
    layout: str,
    *,
    folder_layouts: Sequence[Sequence[str]] = (),
    known_subfolders: Sequence[str] = (),
) -> tuple[Path, tuple[str, ...]]:
    """Find a dataset that comes either as sub-folders (e.g. ``cam_a/`` + ``cam_b/``) or flat.

    Tries ``root`` and then each of ``known_subfolders``; in each, the first of ``folder_layouts``
    whose folders all exist wins, else a folder that directly holds images is a flat layout.

    Returns:
        The dataset folder and the matched folder names (empty for a flat folder).

    Raises:
        DatasetLayoutError: ``root`` is missing, only part of a folder layout exists, or no image
            is found; the message names the folder and shows ``layout``.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetLayoutError(
            f"dataset folder {root} does not exist; expected layout:\n{layout}"
        )
    for candidate in [root, *(root / name for name in known_subfolders)]:
        for folders in folder_layouts:
            present = [(candidate / name).is_dir() for name in folders]
            if all(present):
                return candidate, tuple(folders)
            if any(present):
                missing = next(name for name, ok in zip(folders, present, strict=True) if not ok)
                raise DatasetLayoutError(
                    f"folder {candidate / missing} is missing; expected layout:\n{layout}"
                )
        if candidate.is_dir() and list_images(candidate):
            return candidate, ()
    raise DatasetLayoutError(f"no image files in {root}; expected layout:\n{layout}")


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name (other files such as Thumbs.db are
    skipped)."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
