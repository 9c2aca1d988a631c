"""Figure-data files: what the book draws of a trained run, computed once and committed.

A results file holds a run's numbers; a figure-data file holds what its figures need, so that a
published build draws trained models without training them again. For a finished run it records,
for a few query images chosen with a fixed seed:

- the loss curve (every logged training step: the total and each term);
- the stage1-stage3 activation maps (``reid_lib.models.activation_maps``);
- the affinity of one upper-body position in the stage1 non-local block, the tiny spatial
  attention map and the part-fusion weights, when the model has them;
- the top-ranked gallery images of each query, with whether each shows the same person.

It writes ``<dir>/<profile>/figures/<dataset>/<run>.npz`` (the arrays) and ``.json`` beside it
(the run's identity, the images as paths relative to the dataset folder, and the provenance:
commit, config, checkpoint checksum, time). Image files are never copied: a reader draws them from
their own copy of the dataset, or draws the maps alone.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from reid_lib.atomic_write import atomic_write
from reid_lib.data.loaders import build_test_loader
from reid_lib.engine.checkpoint import LAST, load_checkpoint
from reid_lib.engine.config import Config, apply_overrides, from_dict
from reid_lib.engine.experiment import dataset_root, load_dataset, trained_model
from reid_lib.engine.provenance import code_state
from reid_lib.engine.trainer import resolve_device
from reid_lib.json_files import read_json
from reid_lib.metrics import compute_distance, extract_features, ranked_gallery
from reid_lib.models.activation_maps import DEFAULT_STAGES, activation_maps
from reid_lib.models.weight_driven_parts import remainder_parts

#: The folder of figure-data files under a profile's results folder.
FIGURES = "figures"
#: Query images a file holds, and gallery images per ranked list.
NUM_QUERIES, TOP = 3, 10
#: The non-local block whose affinity a file holds.
AFFINITY_STAGE = "stage1"


def upper_body_position(height: int, width: int) -> tuple[int, int]:
    """``(row, col)`` of a ``height x width`` map a third of the way down, in the middle: on the
    upper body of a pedestrian crop. The position whose non-local affinity the book draws."""
    return height // 3, width // 2


@dataclass(frozen=True)
class FigureData:
    """A figure-data file as read back: ``meta`` (its JSON) and ``arrays`` (its NPZ)."""

    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]

    @property
    def label(self) -> str:
        """``<row> on <dataset> (split s, seed k), commit <10 hex>``: what a figure names."""
        run = self.meta["run"]
        split = f"split {run['split']}, " if run["split"] is not None else ""
        commit = (self.meta["provenance"]["git_commit"] or "unknown")[:10]
        return f"{run['row']} on {run['dataset']} ({split}seed {run['seed']}), commit {commit}"

    @property
    def config(self) -> Config:
        """The run's config (as the file records it)."""
        return from_dict(self.meta["provenance"]["config"], source="figure data")

    @property
    def image_size(self) -> tuple[int, int]:
        """The run's input size ``(height, width)`` in pixels: the size its maps are drawn at."""
        config = self.config
        return config.data.height, config.data.width


def figure_data_path(results_dir: str | Path, profile: str, dataset: str, run: str) -> Path:
    """``<results_dir>/<profile>/figures/<dataset>/<run>.json`` (the NPZ sits beside it)."""
    return Path(results_dir) / profile / FIGURES / dataset / f"{run}.json"


def _loss_curve(run_dir: Path) -> dict[str, np.ndarray]:
    lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines() if x]
    steps = [x for x in lines if x.get("event") == "train_step"]
    keys = sorted({k for x in steps for k in x if k == "loss" or k.startswith(("ce_", "tri_"))})
    curve = {"loss.step": np.array([x["step"] for x in steps], dtype=np.int64)}
    for key in keys:
        curve[f"loss.{key}"] = np.array([x.get(key, np.nan) for x in steps], dtype=np.float32)
    return curve


def compute_figure_data(
    run_dir: str | Path, *, overrides: list[str] = (), seed: int = 0
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(meta, arrays)`` of the finished run in ``run_dir`` (its ``last.pt`` and
    ``metrics.jsonl``); ``overrides`` change settings such as ``data.root``."""
    run_dir = Path(run_dir)
    checkpoint = run_dir / LAST
    state = load_checkpoint(checkpoint)
    cfg: Config = apply_overrides(
        from_dict(state["config"], source=str(checkpoint)), [*overrides, "run.device=cpu"]
    )
    device = resolve_device(cfg.run.device)
    # Generates and checks a synthetic set once; read from here on. Absolute, because a relative
    # data.root is looked up under $REID_DATA_ROOT, the real sets' folder.
    root = dataset_root(cfg).resolve()
    dataset = load_dataset(apply_overrides(cfg, [f"data.root={root}"]))
    model = trained_model(state, cfg).to(device).eval()
    rng = np.random.default_rng(seed)
    chosen = sorted(int(i) for i in rng.choice(len(dataset.query), NUM_QUERIES, replace=False))
    queries = [dataset.query[i] for i in chosen]
    size = (cfg.data.height, cfg.data.width)
    query_loader = build_test_loader(queries, image_size=size, batch_size=NUM_QUERIES)
    q_feats, q_pids, q_cams = extract_features(model, query_loader, progress=False)
    g_feats, g_pids, g_cams = extract_features(
        model, build_test_loader(dataset.gallery, image_size=size, batch_size=64), progress=False
    )
    distance = compute_distance(q_feats, g_feats).cpu().numpy()
    ranked = [
        ranked_gallery(distance[i], q_pids[i], q_cams[i], g_pids, g_cams, TOP)
        for i in range(len(queries))
    ]
    order = np.stack([top for top, _ in ranked])
    arrays: dict[str, np.ndarray] = {
        "ranked.gallery_index": order.astype(np.int64),
        "ranked.match": np.stack([match for _, match in ranked]),
        **_loss_curve(run_dir),
    }
    images = next(iter(query_loader))["images"].to(device)
    non_local = getattr(model, "non_local", None) or {}
    has_tsa = getattr(model, "msg", None) is not None and cfg.model.tsa
    has_weights = getattr(model, "wdp", None) is not None and cfg.model.part_fusion == "adaptive"
    with torch.no_grad():
        if hasattr(model, "stage_maps"):
            for stage, maps in activation_maps(model, images, DEFAULT_STAGES).items():
                arrays[f"activation.{stage}"] = maps.cpu().numpy().astype(np.float16)
        if AFFINITY_STAGE in non_local:
            height, width = arrays[f"activation.{AFFINITY_STAGE}"].shape[1:]
            row, col = upper_body_position(height, width)
            affinity = model.nonlocal_affinity(images, AFFINITY_STAGE)[:, row * width + col]
            arrays[f"nonlocal.{AFFINITY_STAGE}"] = (
                affinity.reshape(-1, height, width).cpu().numpy().astype(np.float32)
            )
            arrays["nonlocal.position"] = np.array([row, col], dtype=np.int64)
        if has_tsa or has_weights:
            f4 = model.stage_maps(images)["stage4"]
        if has_tsa:
            arrays["tsa"] = model.msg.attention_map(f4)[:, 0].cpu().numpy().astype(np.float16)
        if has_weights:
            parts = model.wdp.parts(f4)
            weights = model.wdp.fusion_weights(parts, remainder_parts(parts))
            arrays["part_weights"] = weights.cpu().numpy().astype(np.float32)

    def relative(path: str) -> str:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()

    gallery_paths = sorted({int(i) for i in order.ravel()})
    meta = {
        "run": {
            "name": cfg.run.name,
            "profile": cfg.run.profile,
            "row": cfg.run.row,
            "seed": cfg.run.seed,
            "dataset": cfg.data.dataset,
            "split": cfg.data.split if cfg.data.dataset != "synthetic" else None,
        },
        "queries": [{"index": i, "path": relative(dataset.query[i].path)} for i in chosen],
        "gallery": {str(i): relative(dataset.gallery[i].path) for i in gallery_paths},
        "provenance": {
            **{f"git_{k}": v for k, v in code_state().items()},
            "config": cfg.to_dict(),
            "checkpoint_sha256": hashlib.sha256(checkpoint.read_bytes()).hexdigest(),
            "epoch": state["epoch"],
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
    }
    return meta, arrays


def write_figure_data(
    run_dir: str | Path, results_dir: str | Path, *, overrides: list[str] = ()
) -> Path:
    """Compute the figure data of the run in ``run_dir`` and write it under ``results_dir``;
    return the JSON's path."""
    meta, arrays = compute_figure_data(run_dir, overrides=overrides)
    run = meta["run"]
    path = figure_data_path(results_dir, run["profile"], run["dataset"], run["name"])
    atomic_write(path.with_suffix(".npz"), lambda handle: np.savez_compressed(handle, **arrays))
    text = json.dumps(meta, indent=1, sort_keys=True) + "\n"
    atomic_write(path, lambda handle: handle.write(text.encode()))
    return path


def read_figure_data(path: str | Path) -> FigureData:
    """The figure-data file at ``path`` (its JSON; the NPZ is read from beside it).

    Raises:
        FileNotFoundError: the JSON or its NPZ is missing (the message names which).
    """
    path = Path(path)
    arrays_path = path.with_suffix(".npz")
    for needed in (path, arrays_path):
        if not needed.is_file():
            raise FileNotFoundError(f"figure data {needed} is missing")
    with np.load(arrays_path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return FigureData(read_json(path, "figure data"), arrays)


def figure_data_files(results_dir: str | Path, profile: str) -> list[Path]:
    """The figure-data files of ``profile`` under ``results_dir``, sorted."""
    return sorted((Path(results_dir) / profile / FIGURES).glob("*/*.json"))
