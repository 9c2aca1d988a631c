"""What every chapter calls first: resolve its parameters, seed, and write its results file.

A chapter's ``parameters`` cell holds ``profile``, ``dataset``, ``data_root``, ``device``,
``epochs``, ``seed`` and ``results_dir``; papermill overrides them. :func:`start` turns them into a
:class:`Chapter`; the chapter ends with :meth:`Chapter.write_results`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from book.profiles import Profile, get_profile

AUTO = "auto"


def in_colab() -> bool:
    """True inside a Google Colab kernel."""
    return "google.colab" in sys.modules


def default_profile_name() -> str:
    """``"full"`` on Colab (the paper-sized run on its GPU), ``"smoke"`` elsewhere."""
    return "full" if in_colab() else "smoke"


def resolve_device(device: str) -> torch.device:
    """``"auto"`` picks CUDA when there is one, else the CPU; any other value is used as given."""
    if device == AUTO:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def git_commit(cwd: Path | None = None) -> str | None:
    """The commit of the checkout the chapter runs from, or None outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd or Path(__file__).parent,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


@dataclass(frozen=True)
class Chapter:
    """The resolved parameters of one chapter run."""

    name: str
    profile: Profile
    dataset: str
    data_root: Path | None
    device: torch.device
    epochs: int
    seed: int
    results_dir: Path

    @property
    def results_path(self) -> Path:
        """Where :meth:`write_results` writes: ``<results_dir>/<name>.json``."""
        return self.results_dir / f"{self.name}.json"

    def write_results(self, numbers: Mapping[str, Any]) -> Path:
        """Write ``numbers`` with the run's provenance to :attr:`results_path` and return it."""
        self.results_dir.mkdir(parents=True, exist_ok=True)
        payload = {
            "chapter": self.name,
            "profile": self.profile.name,
            "dataset": self.dataset,
            "data_root_given": self.data_root is not None,
            "device": str(self.device),
            "epochs": self.epochs,
            "seed": self.seed,
            "commit": git_commit(),
            "torch": torch.__version__,
            "written_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "numbers": dict(numbers),
        }
        self.results_path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
        return self.results_path


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def start(
    name: str,
    *,
    profile: str = AUTO,
    dataset: str = "synthetic",
    data_root: str | None = None,
    device: str = AUTO,
    epochs: int | None = None,
    seed: int = 0,
    results_dir: str | None = None,
) -> Chapter:
    """Resolve a chapter's parameters and seed everything.

    Args:
        name: the chapter's file stem; its results go to ``<results_dir>/<name>.json``.
        profile: ``"smoke"``, ``"cpu"``, ``"full"``, or ``"auto"`` (:func:`default_profile_name`).
        dataset: ``"synthetic"`` or a real dataset name the data loaders know.
        data_root: folder of the real datasets; None falls back to ``$REID_DATA_ROOT`` (or none).
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ...
        epochs: training epochs; None takes the profile's.
        seed: seed for Python, NumPy and torch.
        results_dir: folder of the results files; None is ``_build/results/<profile>``.

    Raises:
        ValueError: unknown profile, negative epochs, or a ``data_root`` that is not a folder.
    """
    resolved = get_profile(default_profile_name() if profile == AUTO else profile)
    if epochs is not None and epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    root = data_root or os.environ.get("REID_DATA_ROOT") or None
    if root is not None and not Path(root).is_dir():
        raise ValueError(f"data_root {root!r} is not a folder")
    seed_everything(seed)
    return Chapter(
        name=name,
        profile=resolved,
        dataset=dataset,
        data_root=Path(root) if root else None,
        device=resolve_device(device),
        epochs=resolved.epochs if epochs is None else epochs,
        seed=seed,
        results_dir=Path(results_dir or Path("_build") / "results" / resolved.name),
    )
