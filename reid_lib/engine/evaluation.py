"""Evaluate a model on a dataset's query and gallery: the variants a results file holds.

Single-query always; k-reciprocal re-ranking (``eval.rerank``) and Market-1501 multi-query
(``eval.multi_query``) when the config asks; ``eval.adapt_bn`` adds single-query after the
batch-norm statistics are re-estimated on the dataset's training images
(:mod:`reid_lib.engine.bn_adaptation`), beside the model's own numbers; ``eval.train_split`` adds
the training split ranked among itself (``train_split``: how well the model fits the people it
trained on). Every number comes from :mod:`reid_lib.metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from reid_lib.data.loaders import build_test_loader
from reid_lib.data.records import Record, ReIDDataset
from reid_lib.engine.bn_adaptation import adapt_batch_norm
from reid_lib.engine.config import Config
from reid_lib.engine.results import rank_metrics
from reid_lib.metrics import (
    compute_distance,
    evaluate,
    extract_features,
    pool_multi_query,
    re_ranking_features,
)

#: The config settings that add each variant beyond ``single_query`` to a results file.
VARIANT_SETTINGS = {
    "single_query_rerank": ("eval.rerank=true",),
    "multi_query": ("eval.multi_query=true",),
    "multi_query_rerank": ("eval.multi_query=true", "eval.rerank=true"),
    "single_query_adabn": ("eval.adapt_bn=true",),
    "train_split": ("eval.train_split=true",),
}


def _test_loader(records: Sequence[Record], cfg: Config, device: torch.device) -> DataLoader:
    """The loader of ``records`` with ``cfg``'s test transforms, size and batch."""
    return build_test_loader(
        records,
        image_size=(cfg.data.height, cfg.data.width),
        batch_size=cfg.data.test_batch_size,
        num_workers=cfg.data.num_workers,
        pin_memory=device.type == "cuda",
    )


def embed_records(
    model: nn.Module, records: Sequence[Record], cfg: Config, device: torch.device
) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """``extract_features`` of ``records`` through the test loader of ``cfg`` (no augmentation):
    L2-normalised unless the model says otherwise (``l2_normalise = False``: LOMO and XQDA, whose
    metric is the distance of unnormalised outputs)."""
    return extract_features(
        model,
        _test_loader(records, cfg, device),
        flip=cfg.eval.flip,
        device=device,
        normalize=getattr(model, "l2_normalise", True),
        progress=cfg.run.progress,
    )


def evaluate_model(
    model: nn.Module, dataset: ReIDDataset, cfg: Config, device: torch.device
) -> dict[str, dict[str, float | int]]:
    """``{variant: results-file metrics}`` for ``model`` on ``dataset``'s query and gallery.

    Raises:
        ValueError: ``eval.multi_query`` is set but the dataset has no multi-query images, or
            ``eval.adapt_bn`` or ``eval.train_split`` is set but it has no training images.
    """
    if cfg.eval.multi_query and not dataset.multi_query:
        raise ValueError(
            f"eval.multi_query=true, but dataset {dataset.name!r} has no multi-query images "
            f"(Market-1501's gt_bbox folder); set eval.multi_query=false"
        )
    for setting in ("adapt_bn", "train_split"):  # before minutes of embedding, not after
        if getattr(cfg.eval, setting):
            _training_images(dataset, f"eval.{setting}")
    was_training = model.training
    model.eval()
    metric = cfg.eval.metric
    gallery, g_pids, g_camids = embed_records(model, dataset.gallery, cfg, device)
    queries = {"single_query": embed_records(model, dataset.query, cfg, device)}
    if cfg.eval.multi_query:
        q_feats, q_pids, q_camids = queries["single_query"]
        mq_feats, mq_pids, mq_camids = embed_records(model, dataset.multi_query, cfg, device)
        pooled = pool_multi_query(q_feats, q_pids, q_camids, mq_feats, mq_pids, mq_camids)
        queries["multi_query"] = (pooled, q_pids, q_camids)
    model.train(was_training)

    metrics = {}
    for variant, (feats, pids, camids) in queries.items():
        dist = compute_distance(feats, gallery, metric)
        metrics[variant] = rank_metrics(evaluate(dist, pids, g_pids, camids, g_camids))
        if cfg.eval.rerank:
            dist = re_ranking_features(
                feats,
                gallery,
                metric=metric,
                k1=cfg.eval.rerank_k1,
                k2=cfg.eval.rerank_k2,
                lambda_value=cfg.eval.rerank_lambda,
            )
            metrics[f"{variant}_rerank"] = rank_metrics(
                evaluate(dist, pids, g_pids, camids, g_camids)
            )
    if cfg.eval.adapt_bn:
        metrics["single_query_adabn"] = _adapted_bn_metrics(model, dataset, cfg, device)
    if cfg.eval.train_split:
        metrics["train_split"] = train_split_metrics(model, dataset, cfg, device)
    return metrics


def _training_images(dataset: ReIDDataset, setting: str) -> Sequence[Record]:
    """``dataset``'s training records, or a ValueError that names ``setting`` (which needs them)."""
    if not dataset.train:
        raise ValueError(
            f"{setting}=true, but dataset {dataset.name!r} has no training images; "
            f"set {setting}=false"
        )
    return dataset.train


def train_split_metrics(
    model: nn.Module, dataset: ReIDDataset, cfg: Config, device: torch.device
) -> dict[str, float | int]:
    """Single-query metrics of ``dataset``'s training images ranked among themselves, each image a
    query and the others its gallery, with the same person's images from the same camera left
    out (the query itself among them), as the test protocol leaves them out (ours: the
    joint-training diagnosis's measure of fit; with two cameras per person, as VIPeR's, each
    query has one true match)."""
    records = _training_images(dataset, "eval.train_split")
    feats, pids, camids = embed_records(model, records, cfg, device)
    dist = compute_distance(feats, feats, cfg.eval.metric)
    return rank_metrics(evaluate(dist, pids, pids, camids, camids))


def _adapted_bn_metrics(
    model: nn.Module, dataset: ReIDDataset, cfg: Config, device: torch.device
) -> dict[str, float | int]:
    """Single-query metrics of ``model`` after AdaBN on ``dataset``'s training images (which
    :func:`evaluate_model` has checked are there)."""
    loader = _test_loader(dataset.train, cfg, device)
    adapted = adapt_batch_norm(model, (batch["images"] for batch in loader), device)
    gallery, g_pids, g_camids = embed_records(adapted, dataset.gallery, cfg, device)
    feats, pids, camids = embed_records(adapted, dataset.query, cfg, device)
    dist = compute_distance(feats, gallery, cfg.eval.metric)
    return rank_metrics(evaluate(dist, pids, g_pids, camids, g_camids))
