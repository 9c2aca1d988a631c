"""Scan a dataset folder for images that do not decode and file names that break its naming rule.

``python -m reid_lib.data.verify ROOT --dataset NAME`` prints each problem with its path and exits
with status 1 if there is any (2 for a missing folder or an unknown dataset). Every image file
under ``ROOT`` (any depth) is opened with PIL, checked with ``verify()`` and then fully decoded,
which also catches truncated files that ``verify()`` alone lets through.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from reid_lib.data.factory import dataset_spec
from reid_lib.data.layout import IMAGE_SUFFIXES, DatasetLayoutError


@dataclass(frozen=True)
class Problem:
    """One file that failed a check, and why."""

    path: Path
    reason: str


@dataclass
class VerifyReport:
    """What :func:`verify_dataset` found."""

    root: Path
    dataset: str
    num_images: int = 0
    bad_images: list[Problem] = field(default_factory=list)
    bad_names: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True if images were found and none failed a check."""
        return self.num_images > 0 and not self.bad_images and not self.bad_names

    def format(self) -> str:
        """The problems, one per line, then a one-line summary."""
        lines = [f"corrupt image {p.path}: {p.reason}" for p in self.bad_images]
        lines += [f"bad name {p.path}: {p.reason}" for p in self.bad_names]
        if self.num_images == 0:
            lines.append(f"no image files ({', '.join(IMAGE_SUFFIXES)}) under {self.root}")
        lines.append(
            f"{self.dataset} at {self.root}: checked {self.num_images} images, "
            f"{len(self.bad_images)} unreadable or corrupt, {len(self.bad_names)} bad names"
        )
        return "\n".join(lines)


def check_image(path: Path) -> str | None:
    """Why the image at ``path`` cannot be read, or ``None`` if it decodes."""
    try:
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        return f"{type(err).__name__}: {err}"
    return None


def verify_dataset(root: str | Path, dataset: str, *, progress: bool = False) -> VerifyReport:
    """Check every image file under ``root`` against ``dataset``'s naming rules and decode it.

    Raises:
        DatasetLayoutError: ``root`` is not a folder.
        ValueError: unknown dataset name.
    """
    root = Path(root)
    rules = dataset_spec(dataset).name_rules
    if not root.is_dir():
        raise DatasetLayoutError(f"dataset folder {root} does not exist")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    report = VerifyReport(root, dataset, num_images=len(files))
    rule_text = " or ".join(rule.description for rule in rules)
    for path in tqdm(files, desc=f"verify {dataset}", unit="img", disable=not progress):
        if not any(rule.match(path.name) is not None for rule in rules):
            report.bad_names.append(
                Problem(path, f"{path.name!r} breaks the naming rule {rule_text}")
            )
        reason = check_image(path)
        if reason is not None:
            report.bad_images.append(Problem(path, reason))
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``ROOT --dataset NAME [--no-progress]``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m reid_lib.data.verify",
        description="Report unreadable or corrupt images and names that break the dataset's rule.",
    )
    parser.add_argument("root", type=Path, help="the dataset folder")
    parser.add_argument("--dataset", required=True, help="dataset name, e.g. market1501, viper")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        report = verify_dataset(args.root, args.dataset, progress=not args.no_progress)
    except (DatasetLayoutError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(report.format())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
