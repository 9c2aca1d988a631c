"""Pairwise distances between feature sets, computed in row chunks to bound temporary memory.

``euclidean`` is the plain L2 distance; ``cosine`` is ``1 - cos(a, b)``. ``squared=True`` returns
the square (for euclidean it skips the square root; k-reciprocal re-ranking works on squared
distances). Inputs are numpy arrays or torch tensors (CPU or GPU); the result has the type of ``a``
and lives on its device. Computation is in float32 unless the inputs are float64 (our choice).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from reid_lib.metrics._inputs import ArrayLike

METRICS = ("euclidean", "cosine")
Metric = Literal["euclidean", "cosine"]


def as_features(value: ArrayLike, name: str, device: torch.device | None = None) -> torch.Tensor:
    """``value`` as a 2-D, non-empty, finite float32/float64 tensor (numpy arrays are wrapped)."""
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a numpy array or a torch tensor, got {type(value)}")
    if value.ndim != 2:
        raise ValueError(f"{name} must be 2-D [num_items, dim], got shape {tuple(value.shape)}")
    if value.shape[0] == 0 or value.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(value.shape)})")
    if value.dtype not in (torch.float32, torch.float64):
        value = value.float()
    if not torch.isfinite(value.sum()) and not torch.isfinite(value).all():
        raise ValueError(f"{name} contains NaN or inf")
    return value if device is None else value.to(device)


def compute_distance(
    a: ArrayLike,
    b: ArrayLike,
    metric: Metric = "euclidean",
    *,
    squared: bool = False,
    chunk_size: int = 2048,
) -> ArrayLike:
    """``[len(a), len(b)]`` distances between the rows of ``a`` and ``b``.

    Args:
        a: ``[M, D]`` features (queries). The result follows its type and device.
        b: ``[N, D]`` features (gallery).
        metric: ``"euclidean"`` or ``"cosine"``.
        squared: return squared distances.
        chunk_size: rows of ``a`` handled at a time; temporary memory is about
            ``chunk_size * N`` floats.
    """
    check_metric(metric, chunk_size)
    a_t = as_features(a, "a")
    b_t = as_features(b, "b", device=a_t.device).to(a_t.dtype)
    if a_t.shape[1] != b_t.shape[1]:
        raise ValueError(f"a and b differ in feature dimension: {a_t.shape[1]} vs {b_t.shape[1]}")
    prepared = prepare_features(b_t, metric)
    out = torch.empty(len(a_t), len(b_t), dtype=a_t.dtype, device=a_t.device)
    for start in range(0, len(a_t), chunk_size):
        rows = prepare_features(a_t[start : start + chunk_size], metric)
        out[start : start + chunk_size] = distance_block(rows, prepared, metric, squared=squared)
    return out.cpu().numpy() if isinstance(a, np.ndarray) else out


def prepare_features(x: torch.Tensor, metric: Metric) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row data the functions below need: ``(x, |x|^2)``, or ``(x / |x|, 0)`` for cosine."""
    if metric == "cosine":
        return F.normalize(x, dim=1), x.new_zeros(len(x))
    return x, (x * x).sum(dim=1)


def row_scores(
    rows: tuple[torch.Tensor, torch.Tensor], cols: tuple[torch.Tensor, torch.Tensor], metric: Metric
) -> torch.Tensor:
    """``[len(rows), len(cols)]`` scores that order each row as the distances do.

    The distance is :func:`scores_to_distance` of the score and the row's norm term; ranking only
    needs the scores, which saves passes over large blocks.
    """
    (x, _), (y, y_sq) = rows, cols
    if metric == "cosine":
        return (x @ y.T).neg_()  # -cos
    return torch.addmm(y_sq.unsqueeze(0), x, y.T, alpha=-2.0)  # |y|^2 - 2 x.y


def scores_to_distance(
    scores: torch.Tensor, row_sq: torch.Tensor, metric: Metric, *, squared: bool
) -> torch.Tensor:
    """Distances from :func:`row_scores` (in place); ``row_sq`` broadcasts against ``scores``."""
    if metric == "cosine":
        d = scores.add_(1.0)
        return d.square_() if squared else d
    d = scores.add_(row_sq).clamp_(min=0.0)
    return d if squared else d.sqrt_()


def distance_block(
    rows: tuple[torch.Tensor, torch.Tensor],
    cols: tuple[torch.Tensor, torch.Tensor],
    metric: Metric,
    *,
    squared: bool,
) -> torch.Tensor:
    """Distances between prepared row and column features, ``[len(rows), len(cols)]``."""
    scores = row_scores(rows, cols, metric)
    return scores_to_distance(scores, rows[1].unsqueeze(1), metric, squared=squared)


def paired_distance(
    rows: tuple[torch.Tensor, torch.Tensor],
    cols: tuple[torch.Tensor, torch.Tensor],
    i: torch.Tensor,
    j: torch.Tensor,
    metric: Metric,
    *,
    squared: bool,
) -> torch.Tensor:
    """Distances between prepared features ``rows[i[k]]`` and ``cols[j[k]]``, ``[len(i)]``."""
    (x, x_sq), (y, y_sq) = rows, cols
    dot = (x[i] * y[j]).sum(dim=1)
    scores = dot.neg_() if metric == "cosine" else y_sq[j] - 2.0 * dot
    return scores_to_distance(scores, x_sq[i], metric, squared=squared)


def check_metric(metric: str, chunk_size: int) -> None:
    """Raise unless ``metric`` is known and ``chunk_size`` positive."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
