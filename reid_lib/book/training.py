"""The chapters' short training run: one engine run per config, trained once and then reused.

The chapters *Weight-driven part fusion*, *Losses and training*, the *Explorer* and *Activation
maps* look at models trained under the chapter's profile. :func:`short_run` trains one with the
engine (``reid_lib.engine.experiment.train``) unless ``last.pt`` of a finished run with the same
config is already there, so a book build trains each model once per profile: the full model (the
study row ``full``), and the other rows of ``reid_lib/studies/ablations.yaml`` that *Activation
maps* compares with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from reid_lib.book.chapter import Chapter
from reid_lib.book.data import dataset_config
from reid_lib.engine.checkpoint import LAST, load_checkpoint
from reid_lib.engine.config import Config, apply_overrides, load_yaml
from reid_lib.engine.experiment import build_model_from_config, train, trained_model
from reid_lib.studies.rows import load_rows

RUN_NAME = "book"
#: The study row of a chapter's own model: the profile's preset is the full model, so the row
#: ``full`` changes nothing in it.
CHAPTER_ROW = "full"


@dataclass(frozen=True)
class TrainedRun:
    """A finished engine run: its config, folder and final checkpoint."""

    config: Config
    run_dir: Path

    @property
    def checkpoint(self) -> Path:
        return self.run_dir / LAST

    def model(self, device: torch.device | str = "cpu") -> torch.nn.Module:
        """The trained model (eval mode) on ``device``."""
        return trained_model(load_checkpoint(self.checkpoint), self.config).to(device).eval()

    def untrained_model(self, device: torch.device | str = "cpu") -> torch.nn.Module:
        """The same architecture at initialisation (seeded with the run's seed), eval mode."""
        num_classes = load_checkpoint(self.checkpoint)["num_classes"]
        torch.manual_seed(self.config.run.seed)
        return build_model_from_config(self.config, num_classes).to(device).eval()

    def log(self) -> pd.DataFrame:
        """The run's ``metrics.jsonl``: one row per logged event (``train_step``, ``eval``, ...)."""
        lines = (self.run_dir / "metrics.jsonl").read_text().splitlines()
        return pd.DataFrame([json.loads(line) for line in lines if line.strip()])


def _saved_state(config: Config, run_dir: Path) -> dict[str, Any] | None:
    """The last checkpoint of the run of exactly ``config`` in ``run_dir``; None when the folder
    holds no checkpoint or one of another config."""
    saved, last = run_dir / "config.yaml", run_dir / LAST
    if not (saved.is_file() and last.is_file()) or load_yaml(saved).to_dict() != config.to_dict():
        return None
    return load_checkpoint(last)


def short_run_config(ch: Chapter, row: str = CHAPTER_ROW) -> Config:
    """The config :func:`short_run` trains: the chapter's, with ablation ``row`` applied.

    The run is named ``book-<row>``. The default row, :data:`CHAPTER_ROW`, adds nothing to the
    chapter's config, so every chapter that looks at the full model shares one run with the
    ``full`` row of *Activation maps*.

    Raises:
        ValueError: a ``row`` that the studies do not define (the message lists them).
    """
    rows = load_rows()
    if row not in rows:
        raise ValueError(f"row={row!r} is not an ablation row; expected one of {list(rows)}")
    overrides, name = list(rows[row]), f"{RUN_NAME}-{row}"
    # A fixed results folder keeps the config (the cache key) the same for every caller.
    overrides += [f"run.name={name}", f"run.row={row}"]
    overrides.append(f"run.results_dir={ch.runs_dir / 'results'}")
    return apply_overrides(dataset_config(ch), overrides)


def short_run(ch: Chapter, row: str = CHAPTER_ROW) -> TrainedRun:
    """The chapter's profile with its ablation ``row`` (default: the full model) trained on its
    dataset, in ``ch.runs_dir``.

    Reused when a finished run of the same config is there; resumed from its ``last.pt`` when an
    unfinished one is; otherwise trained now (replacing a run of another config). See
    :func:`short_run_config`.
    """
    config = short_run_config(ch, row)
    run_dir = config.run_dir()
    state = _saved_state(config, run_dir)
    if state is None:
        train(config, overwrite=True)
    elif state["epoch"] != config.schedule.epochs or state.get("interrupted", False):
        # Unfinished: a chapter stopped part-way, or a Colab session that disconnected.
        train(config, resume=run_dir / LAST)
    return TrainedRun(config, run_dir)
