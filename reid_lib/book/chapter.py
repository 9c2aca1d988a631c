"""What every chapter calls first: resolve its parameters, seed, and write its results file.

A chapter's ``parameters`` cell holds ``profile``, ``dataset``, ``data_root``, ``device``,
``epochs``, ``seed``, ``results_dir`` and ``runs_dir``; papermill overrides them. :func:`start`
turns them into a :class:`Chapter`, whose ``config`` is the engine's preset of the same name
(``smoke``, ``cpu``, ``colab``, ``full``) with the parameters applied. The chapter ends with
:meth:`Chapter.write_results`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from reid_lib.book.paths import BATCH_ENV, BUILD, ROOT, RUNS_DIR
from reid_lib.engine.config import Config, load_config
from reid_lib.engine.experiment import DATA_ROOT_ENV
from reid_lib.engine.provenance import code_state
from reid_lib.engine.reproducibility import seed_everything
from reid_lib.engine.trainer import resolve_device
from reid_lib.studies.profiles import COLAB_PROFILE, DEFAULT_PROFILE, Profile, get_profile

AUTO = "auto"


def in_colab() -> bool:
    """True inside a Google Colab kernel."""
    return "google.colab" in sys.modules


def default_profile_name() -> str:
    """:data:`~reid_lib.studies.profiles.COLAB_PROFILE` on Colab (its GPU), else
    :data:`~reid_lib.studies.profiles.DEFAULT_PROFILE`."""
    return COLAB_PROFILE if in_colab() else DEFAULT_PROFILE


@dataclass(frozen=True)
class Chapter:
    """The resolved parameters of one chapter run.

    Attributes:
        name: the chapter's file stem.
        profile: a name of :data:`~reid_lib.studies.profiles.PROFILES`.
        config: the engine config of the profile, with the chapter's parameters applied.
        data_root: folder of the real datasets, or None.
        device: where the chapter computes.
        results_dir: folder of the results files.
        runs_dir: folder of the chapter's training runs (checkpoints, logs, the synthetic set).
    """

    name: str
    profile: str
    config: Config
    data_root: Path | None
    device: torch.device
    results_dir: Path
    runs_dir: Path

    @property
    def image_size(self) -> tuple[int, int]:
        """(height, width) of the profile's images."""
        return self.config.data.height, self.config.data.width

    @property
    def interactive(self) -> bool:
        """False under a batch run (``$REID_BOOK_BATCH`` set): show static figures, no widgets."""
        return not os.environ.get(BATCH_ENV)

    @property
    def settings(self) -> Profile:
        """What the profile runs (seeds, whether the build trains what it shows, ...)."""
        return get_profile(self.profile)

    @property
    def seed(self) -> int:
        return self.config.run.seed

    @property
    def results_path(self) -> Path:
        """Where :meth:`write_results` writes: ``<results_dir>/<name>.json``."""
        return self.results_dir / f"{self.name}.json"

    def write_results(self, numbers: Mapping[str, Any]) -> None:
        """Write ``numbers`` with the run's provenance to :attr:`results_path`.

        It returns nothing, so that a chapter's last cell shows no output.
        """
        self.results_dir.mkdir(parents=True, exist_ok=True)
        payload = {
            "chapter": self.name,
            "profile": self.profile,
            "dataset": self.config.data.dataset,
            "data_root_given": self.data_root is not None,
            "device": str(self.device),
            "epochs": self.config.schedule.epochs,
            "seed": self.seed,
            **code_state(),
            "torch": torch.__version__,
            "written_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "numbers": dict(numbers),
        }
        self.results_path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")


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
    runs_dir: str | None = None,
    overrides: Sequence[str] = (),
) -> Chapter:
    """Resolve a chapter's parameters, seed everything, and move the kernel to the repository root.

    papermill starts a chapter in the repository root, nbval and Jupyter in ``book/``; after the
    move, the relative paths a chapter uses and prints (``_build/runs/...``) mean the same in all
    three. A relative ``data_root`` or ``results_dir`` is read from the kernel's starting folder.

    Args:
        name: the chapter's file stem; its results go to ``<results_dir>/<name>.json``.
        profile: a name of :data:`~reid_lib.studies.profiles.PROFILES`, or ``"auto"``
            (:func:`default_profile_name`).
        dataset: ``"synthetic"`` or a real dataset name the data loaders know.
        data_root: folder of the real datasets; None falls back to ``$REID_DATA_ROOT`` (or none).
        device: ``"auto"`` (the GPU when there is one), ``"cpu"``, ``"cuda"``, ...
        epochs: training epochs; None takes the profile's.
        seed: seed for Python, NumPy and torch.
        results_dir: folder of the results files; None is ``_build/results/<profile>``.
        runs_dir: folder of the training runs; None is ``_build/runs``. On Colab, name a folder
            of your Google Drive: a run there survives a disconnect and resumes from its last
            epoch when the chapter runs again.
        overrides: config overrides applied last (``["model.pretrained=null"]``); ``python -m
            tools.run_book --set KEY=VALUE`` passes them to every chapter.

    Raises:
        ValueError: negative epochs, or a ``data_root`` that is not a folder.
        reid_lib.engine.config.ConfigError: unknown profile.
    """
    profile = default_profile_name() if profile == AUTO else profile
    if epochs is not None and epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    given = data_root or os.environ.get(DATA_ROOT_ENV) or None
    if given is not None and not Path(given).is_dir():
        raise ValueError(f"data_root {given!r} is not a folder")
    root = Path(given).resolve() if given else None
    results = Path(results_dir).resolve() if results_dir else BUILD / "results" / profile
    runs = Path(runs_dir).expanduser().resolve() if runs_dir else RUNS_DIR
    os.chdir(ROOT)
    chapter_overrides = [
        f"data.dataset={dataset}",
        f"run.device={device}",
        f"run.seed={seed}",
        f"run.output_dir={runs.relative_to(ROOT) if runs.is_relative_to(ROOT) else runs}",
        f"run.results_dir={results / 'runs'}",
        "run.progress=false",
    ]
    if epochs is not None:
        chapter_overrides.append(f"schedule.epochs={epochs}")
    config = load_config(profile, [*chapter_overrides, *overrides])
    seed_everything(seed, deterministic=config.run.deterministic)
    return Chapter(
        name=name,
        profile=profile,
        config=config,
        data_root=root,
        device=resolve_device(config.run.device),
        results_dir=results,
        runs_dir=runs,
    )
