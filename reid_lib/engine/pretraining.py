"""The CPU track's stand-in for ImageNet pretraining: a backbone trained once on people that no
evaluated set holds, saved with its checksum and provenance.

The paper fine-tunes an ImageNet-pretrained ResNet-50; no ImageNet weights can be had on the
project's machines. ``reid pretrain`` trains the ``pretrain`` preset (the global ResNet of Bag of
Tricks on PETA's TownCentre and SARC3D identities, ``reid_lib.data.peta_training``), then exports
its backbone as a torchvision-format state dict::

    <run.output_dir>/pretrained/<run.name>.pt     the backbone's weights
    <run.output_dir>/pretrained/<run.name>.json   sha256, train set, config, commit, device, time
    <run.results_dir>/pretrained/<run.name>-<12 hex of its sha256>.json
                                                  the same record, for the repository

The repository commits one such backbone, with its sidecar, as
:data:`~reid_lib.engine.pretrained_weights.COMMITTED_BACKBONE`, the file the ``cpu`` preset starts
from; :func:`compare_with_committed` says whether a rebuilt one is that file, byte for byte (only
a machine with the record's ``numerics`` fingerprint can rebuild it).
``model.pretrained=<a .pt>`` starts any model from it;
:func:`~reid_lib.engine.pretrained_weights.check_pretrained` verifies the checksum first, and
:func:`~reid_lib.engine.pretrained_weights.pretraining_label` is what a results file records of it.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from reid_lib.atomic_write import atomic_write
from reid_lib.engine.checkpoint import LAST, check_trained_under, has_trained, load_checkpoint
from reid_lib.engine.config import Config, from_dict
from reid_lib.engine.experiment import load_dataset, train
from reid_lib.engine.machine import numerics_fingerprint
from reid_lib.engine.pretrained_weights import COMMITTED_BACKBONE, sha256_file, sidecar_path
from reid_lib.engine.provenance import code_state, dataset_manifest_sha256
from reid_lib.json_files import read_json

BACKBONE_PREFIX = "backbone."


def pretrained_path(cfg: Config) -> Path:
    """Where ``cfg`` (a pretraining config) exports its backbone."""
    return Path(cfg.run.output_dir) / "pretrained" / f"{cfg.run.name}.pt"


def export_backbone(
    checkpoint: str | Path,
    out: str | Path,
    train_set: dict[str, Any],
    records_dir: str | Path | None = None,
) -> Path:
    """Write the backbone of training checkpoint ``checkpoint`` to ``out``, with its sidecar.

    The weights are the ``backbone.*`` entries without their prefix (torchvision's names, which
    ``reid_lib.models.build_backbone`` loads); the sidecar records their SHA-256, ``train_set``
    (name, manifest checksum, ids, images), the run's config and device (None for a checkpoint
    written before checkpoints named it), the numerics fingerprint of the machine that exports
    (:func:`~reid_lib.engine.machine.numerics_fingerprint`; :func:`pretrain` exports where
    it trained), the commit and the time.
    Both files are written atomically, the weights first; ``records_dir`` gets a second copy of
    the sidecar (the one the repository commits, under ``results/pretrained/``), named by
    :func:`record_path`.
    """
    state = load_checkpoint(checkpoint)
    weights = {
        key.removeprefix(BACKBONE_PREFIX): value
        for key, value in state["model"].items()
        if key.startswith(BACKBONE_PREFIX)
    }
    buffer = io.BytesIO()
    torch.save(weights, buffer)
    out = atomic_write(out, lambda fh: fh.write(buffer.getvalue()))
    cfg = from_dict(state["config"], check=False)
    git = code_state()
    provenance = {
        "file": out.name,
        "sha256": sha256_file(out),
        "backbone": cfg.model.backbone,
        "arch": cfg.model.arch,
        "epochs": state["epoch"],
        "train_set": train_set,
        "git_commit": git["commit"],
        "git_dirty": git["dirty"],
        "config": cfg.to_dict(),
        "device": state.get("device"),
        "numerics": numerics_fingerprint(),
        "images_per_s": state["images_per_s"],
        "wall_time_s": state["wall_time_s"],
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    text = json.dumps(provenance, indent=2) + "\n"
    records = [] if records_dir is None else [record_path(records_dir, out, provenance["sha256"])]
    for path in (sidecar_path(out), *records):
        atomic_write(path, lambda fh: fh.write(text.encode()))
    return out


def record_path(records_dir: str | Path, weights: str | Path, sha256: str) -> Path:
    """``<records_dir>/<stem of weights>-<12 hex of sha256>.json``: one record per backbone, so
    that the record of a backbone that committed runs started from is never overwritten."""
    return Path(records_dir) / f"{Path(weights).stem}-{sha256[:12]}.json"


def compare_with_committed(exported: str | Path, committed: str | Path = COMMITTED_BACKBONE) -> str:
    """One line saying whether the weights ``exported`` are the committed backbone ``committed``,
    byte for byte."""
    committed = Path(committed)
    if not committed.is_file():
        return f"there is no committed backbone {committed} here to compare it with"
    ours, theirs = sha256_file(exported)[:12], sha256_file(committed)[:12]
    if ours == theirs:
        return f"it is the committed backbone {committed}, byte for byte (sha256:{ours})"
    return (
        f"it differs from the committed backbone {committed} (sha256:{ours} against {theirs}): "
        "runs from it pair only with each other, and the committed results start from the "
        f"committed file; to train from yours, set model.pretrained={exported}"
    )


def backbones_like_this_machine(records: Path, fingerprint: str) -> list[str]:
    """The checksums (12 hex digits) of the pretraining records in folder ``records`` made on a
    machine whose :func:`~reid_lib.engine.machine.numerics_fingerprint` is ``fingerprint``."""
    found = set()
    for path in sorted(Path(records).glob("*.json")):
        record = read_json(path, "pretraining record")
        if record.get("numerics") == fingerprint:
            found.add(record["sha256"][:12])
    return sorted(found)


def pretrain(cfg: Config) -> Path | None:
    """Train ``cfg`` (resuming from its ``last.pt`` when there is one), then export its backbone.

    A run that already finished is not trained again. Its checkpoint's config must train what
    ``cfg`` trains (the sections of :data:`~reid_lib.engine.checkpoint.TRAINED_BY`, the data
    folder's spelling aside) and, when its backbone was exported, its record's training set must
    be the one ``cfg``'s data folder holds now; then the export is written only where it is
    missing, and a record is never rewritten by a run that did not train its weights. Returns
    the path of the exported weights, or None when Ctrl-C stopped the training (its ``last.pt``
    is saved, and the same call resumes it).

    Raises:
        LockedError: another process is pretraining into the same run folder.
        CheckpointError: the finished run was trained under another config.
        ValueError: the exported backbone was trained on another training set than the data
            folder now holds (both checksums named).
    """
    last = cfg.run_dir() / LAST
    trained_now = not has_trained(last, cfg.schedule.epochs)
    if trained_now:
        result = train(cfg, resume=last if last.is_file() else None)
        if result.status != "finished":
            return None
    else:
        check_trained_under(
            last,
            cfg.to_dict(),
            remedy="delete its run folder to pretrain again, or choose another run.name",
            ignore=("data.root",),
        )
    dataset = load_dataset(cfg)
    train_set = {
        "name": dataset.name,
        "manifest_sha256": dataset_manifest_sha256(dataset),
        "num_ids": dataset.num_train_pids,
        "num_images": len(dataset.train),
    }
    out = pretrained_path(cfg)
    records_dir = Path(cfg.run.results_dir) / "pretrained"
    sidecar = sidecar_path(out)
    if trained_now or not (out.is_file() and sidecar.is_file()):
        return export_backbone(last, out, train_set, records_dir)
    exported = read_json(sidecar, "backbone record")
    record = record_path(records_dir, out, exported["sha256"])
    if exported["train_set"] != train_set:
        raise ValueError(
            f"{sidecar}: the backbone was trained on {exported['train_set']['name']} with "
            f"manifest {exported['train_set']['manifest_sha256'][:12]}, but data.root="
            f"{cfg.data.root} now holds manifest {train_set['manifest_sha256'][:12]}; point "
            "data.root at the folder it was trained on, or pretrain again under another run.name"
        )
    if not record.is_file():
        atomic_write(record, lambda fh: fh.write(sidecar.read_bytes()))
    return out
