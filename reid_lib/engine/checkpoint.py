"""Checkpoints: atomic writes, safe loading, and a check that a checkpoint fits the current config.

A checkpoint is a dict of tensors and plain values (model, optimiser, scheduler, sampler and RNG
states, the config as a dict, the epoch, the best score). It is written to a temporary file in the
same folder and moved into place with ``os.replace``, so a crash never leaves a half-written file.
It is read with ``torch.load(..., weights_only=True)``: a file that would need to unpickle arbitrary
objects (and could run code) is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from reid_lib.atomic_write import atomic_link, atomic_write
from reid_lib.torch_files import load_tensors

LAST = "last.pt"
BEST = "best.pt"


class CheckpointError(ValueError):
    """A checkpoint that is missing, unsafe, or does not fit the current configuration."""


def save_checkpoint(state: Mapping[str, Any], path: str | Path) -> Path:
    """Write ``state`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    return atomic_write(path, lambda fh: torch.save(dict(state), fh))


def link_checkpoint(source: str | Path, path: str | Path) -> Path:
    """Give the checkpoint ``source`` the second name ``path`` (a hard link, else a copy).

    ``best.pt`` is usually the ``last.pt`` just written; linking it halves the disk a run takes.
    ``last.pt`` is later replaced by a new file, so the old bytes stay under ``path``.
    """
    return atomic_link(source, path)


#: What a training checkpoint of :class:`~reid_lib.engine.trainer.Trainer` holds, at least, for
#: ``reid eval`` and a resume to use it.
TRAINING_KEYS = ("model", "config", "num_classes", "epoch", "wall_time_s")


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint on the CPU without unpickling arbitrary objects.

    Raises:
        CheckpointError: the file does not exist, is not a whole file of ``torch.save``
            (truncated, or another kind), or holds objects other than tensors and plain values
            (:func:`~reid_lib.torch_files.load_tensors`).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        state = load_tensors(path, f"checkpoint {path}")
    except ValueError as err:
        raise CheckpointError(str(err)) from None
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"checkpoint {path}: expected a dict with a 'model' state dict")
    return state


def load_training_checkpoint(path: str | Path) -> dict[str, Any]:
    """:func:`load_checkpoint`, then check that it holds :data:`TRAINING_KEYS`.

    Raises:
        CheckpointError: as :func:`load_checkpoint`, or a key missing (a state dict or another
            program's checkpoint; the message names the missing keys).
    """
    state = load_checkpoint(path)
    missing = [key for key in TRAINING_KEYS if key not in state]
    if missing:
        raise CheckpointError(
            f"checkpoint {path} is not a training checkpoint of this library: it lacks "
            f"{missing} (a last.pt or best.pt written by reid train holds them)"
        )
    return state


def has_trained(path: str | Path, epochs: int) -> bool:
    """Whether the checkpoint at ``path`` exists and has trained at least ``epochs`` epochs."""
    return Path(path).is_file() and load_checkpoint(path)["epoch"] >= epochs


#: The config sections that decide what a run trains (``run`` and ``eval`` do not).
TRAINED_BY = ("model", "loss", "data", "sampler", "optim", "schedule")


def config_mismatches(
    saved: Mapping[str, Any],
    current: Mapping[str, Any],
    *,
    sections: tuple[str, ...] = ("model",),
    labels: tuple[str, str] = ("checkpoint", "config"),
) -> list[str]:
    """Keys of ``sections`` whose values differ between two config dicts, as readable lines
    that call the two by ``labels``.

    A key that ``saved`` lacks (added to the config after it was written) holds its default
    there: a new key's default is what the code did before it existed.
    """
    from reid_lib.engine.config import Config  # the config module imports the data loaders

    defaults = Config().to_dict()
    lines = []
    for section in sections:
        old = {**defaults.get(section, {}), **saved.get(section, {})}
        new = current.get(section, {})
        for key in sorted(set(saved.get(section, {})) | set(new)):
            if old.get(key) != new.get(key):
                lines.append(
                    f"{section}.{key}: {labels[0]} {old.get(key)!r}, {labels[1]} {new.get(key)!r}"
                )
    return lines


def check_trained_under(
    last: str | Path, config: Mapping[str, Any], *, remedy: str, ignore: tuple[str, ...] = ()
) -> None:
    """Refuse a finished run ``last`` unless it trained what ``config`` trains: the sections of
    :data:`TRAINED_BY`, the dotted keys of ``ignore`` aside (e.g. ``data.root``: the same files
    may sit under another path).

    Raises:
        CheckpointError: names ``last``, says ``remedy`` and lists every mismatched key.
    """

    def without(config: Mapping[str, Any]) -> dict[str, Any]:
        kept = {section: dict(values) for section, values in config.items()}
        for dotted in ignore:
            section, key = dotted.split(".", 1)
            kept.get(section, {}).pop(key, None)
        return kept

    saved = without(load_checkpoint(last)["config"])
    mismatched = config_mismatches(saved, without(config), sections=TRAINED_BY)
    if mismatched:
        raise CheckpointError(
            f"{last} was trained under another config; {remedy}. Mismatched keys: "
            + "; ".join(mismatched)
        )


def check_compatible(
    state: Mapping[str, Any], config: Mapping[str, Any], num_classes: int, *, path: str | Path
) -> None:
    """Raise :class:`CheckpointError` listing every model key where checkpoint and config differ."""
    lines = config_mismatches(state.get("config", {}), config)
    if state.get("num_classes") != num_classes:
        lines.append(
            f"num_classes: checkpoint {state.get('num_classes')!r}, dataset {num_classes!r}"
        )
    if lines:
        raise CheckpointError(
            f"checkpoint {path} does not fit this model config; mismatched keys:\n  "
            + "\n  ".join(lines)
        )
