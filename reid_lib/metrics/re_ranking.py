"""k-reciprocal re-ranking (Zhong et al., CVPR 2017), dense and memory-bounded.

The algorithm is the one of the authors' public Python version (``re_ranking_ranklist.py``):

1. Over all ``N = Q + G`` images, square the given distances and divide each image's row by its
   maximum; rank every row in ascending order.
2. ``R(i, k)``: the k-reciprocal neighbours of ``i``, the images ``j`` among the ``k + 1``
   nearest of ``i`` that have ``i`` among their own ``k + 1`` nearest.
3. Expansion: for each ``c`` in ``R(i, k1)``, add ``R(c, round(k1 / 2))`` when more than 2/3 of it
   lies in ``R(i, k1)``.
4. ``V[i, j] = exp(-d(i, j))`` over the expanded set, normalised to sum 1 (a sparse row).
5. Local query expansion: ``V[i]`` becomes the mean of ``V`` over the ``k2`` nearest of ``i``.
6. Jaccard distance ``1 - m / (2 - m)`` with ``m = sum_k min(V[q, k], V[g, k])``; the final distance
   is ``(1 - lambda) * jaccard + lambda * d``.

What we chose: ``V`` is kept sparse (scipy CSR), the Jaccard term is accumulated a chunk of
queries at a time from the nonzeros only, and in :func:`re_ranking_features` the distances are
computed a chunk of rows at a time and only the nearest ``max(k1 + 1, k2)`` of each row are kept,
so that memory grows with ``N`` rather than ``N^2`` (except the ``[Q, G]`` result). The first
pass (distances and top-k) runs on the features' device, GPU included; the sparse steps run on the
CPU. Ties in a row's ranking are broken as ``torch.topk`` breaks them (the reference's ``argsort``
is not stable either).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from reid_lib.metrics._inputs import ArrayLike, check_matrix, to_numpy
from reid_lib.metrics.distance import (
    Metric,
    as_features,
    check_metric,
    paired_distance,
    prepare_features,
    row_scores,
    scores_to_distance,
)

# Bounds on temporary memory (our choice): the Jaccard step's per-chunk arrays (about 0.4 GB at
# most) and its dense [rows, G] float64 overlap block (256 MB); member distances computed at a time.
TRIPLETS_PER_CHUNK = 8_000_000
JACCARD_FLOATS_PER_CHUNK = 2**25
PAIRS_PER_CHUNK = 4096


class _DenseSource:
    """Squared distances from given dense matrices, laid out as the reference code does."""

    def __init__(self, q_g: np.ndarray, q_q: np.ndarray, g_g: np.ndarray) -> None:
        full = np.block([[q_q, q_g], [q_g.T, g_g]])
        # The reference squares in the input precision, then works in float32.
        np.square(full, out=full)
        self.squared = torch.from_numpy(full.astype(np.float32, copy=False))
        self.num_items = full.shape[0]
        self.device = torch.device("cpu")

    def scores(self, start: int, stop: int) -> torch.Tensor:
        # The reference normalises columns and transposes: row i is column i of the input.
        return self.squared[:, start:stop].T

    def to_squared(self, scores: torch.Tensor, start: int) -> torch.Tensor:
        return scores.clone()  # a copy: callers modify it in place

    def pairs(self, i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
        return self.squared[j, i]


class _FeatureSource:
    """Squared distances computed on demand from features (query rows first)."""

    def __init__(self, feats: torch.Tensor, metric: Metric) -> None:
        self.prepared = prepare_features(feats, metric)
        self.metric = metric
        self.num_items = feats.shape[0]
        self.device = feats.device

    def scores(self, start: int, stop: int) -> torch.Tensor:
        x, x_sq = self.prepared
        return row_scores((x[start:stop], x_sq[start:stop]), self.prepared, self.metric)

    def to_squared(self, scores: torch.Tensor, start: int) -> torch.Tensor:
        row_sq = self.prepared[1][start : start + len(scores)]
        return scores_to_distance(scores, row_sq.unsqueeze(1), self.metric, squared=True)

    def pairs(self, i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
        return paired_distance(self.prepared, self.prepared, i, j, self.metric, squared=True)


def re_ranking(
    q_g: ArrayLike,
    q_q: ArrayLike,
    g_g: ArrayLike,
    k1: int = 20,
    k2: int = 6,
    lambda_value: float = 0.3,
) -> np.ndarray:
    """Re-ranked ``[Q, G]`` distances from dense distance matrices (the reference's interface).

    Args:
        q_g: ``[Q, G]`` query-gallery distances (not squared; they are squared here, as in the
            reference).
        q_q: ``[Q, Q]`` query-query distances.
        g_g: ``[G, G]`` gallery-gallery distances.
        k1, k2, lambda_value: Zhong et al.'s parameters (their defaults 20, 6, 0.3).

    Returns:
        float32 numpy array ``[Q, G]``.
    """
    q_g, q_q, g_g = (to_numpy(m, name) for m, name in ((q_g, "q_g"), (q_q, "q_q"), (g_g, "g_g")))
    for matrix, name in ((q_g, "q_g"), (q_q, "q_q"), (g_g, "g_g")):
        check_matrix(matrix, name)
    num_q, num_g = q_g.shape
    if q_q.shape != (num_q, num_q):
        raise ValueError(f"q_q must be [{num_q}, {num_q}] to match q_g, got {q_q.shape}")
    if g_g.shape != (num_g, num_g):
        raise ValueError(f"g_g must be [{num_g}, {num_g}] to match q_g, got {g_g.shape}")
    _check_parameters(k1, k2, lambda_value)
    source = _DenseSource(q_g, q_q, g_g)
    return _k_reciprocal_distance(source, num_q, k1, k2, lambda_value, chunk_size=1024)


def re_ranking_features(
    q_feats: ArrayLike,
    g_feats: ArrayLike,
    *,
    metric: Metric = "euclidean",
    k1: int = 20,
    k2: int = 6,
    lambda_value: float = 0.3,
    chunk_size: int = 1024,
) -> ArrayLike:
    """Re-ranked ``[Q, G]`` distances from features, without any ``[N, N]`` matrix.

    Equals ``re_ranking(d(q, g), d(q, q), d(g, g))`` with ``d = compute_distance(..., metric)``,
    up to float rounding. The features' device is used for the distances (GPU when they are on one).

    Args:
        q_feats: ``[Q, D]`` query features (numpy or torch).
        g_feats: ``[G, D]`` gallery features.
        metric: ``"euclidean"`` or ``"cosine"``.
        k1, k2, lambda_value: Zhong et al.'s parameters (their defaults 20, 6, 0.3).
        chunk_size: rows of distances computed at a time (temporary memory about
            ``3 * chunk_size * (Q + G)`` floats). The ``[Q, G]`` result itself is the largest
            allocation (3.8 GB at MSMT17 scale).

    Returns:
        float32 ``[Q, G]``: a numpy array for numpy input, else a tensor on ``q_feats``' device.
    """
    check_metric(metric, chunk_size)
    _check_parameters(k1, k2, lambda_value)
    q_t = as_features(q_feats, "q_feats")
    g_t = as_features(g_feats, "g_feats", device=q_t.device).to(q_t.dtype)
    if q_t.shape[1] != g_t.shape[1]:
        raise ValueError(
            f"q_feats and g_feats differ in feature dimension: {q_t.shape[1]} vs {g_t.shape[1]}"
        )
    source = _FeatureSource(torch.cat([q_t, g_t]).float(), metric)
    final = _k_reciprocal_distance(source, len(q_t), k1, k2, lambda_value, chunk_size)
    return final if isinstance(q_feats, np.ndarray) else torch.from_numpy(final).to(q_t.device)


def _check_parameters(k1: int, k2: int, lambda_value: float) -> None:
    if isinstance(k1, bool) or not isinstance(k1, int | np.integer) or k1 < 1:
        raise ValueError(f"k1 must be a positive integer, got {k1!r}")
    if isinstance(k2, bool) or not isinstance(k2, int | np.integer) or k2 < 1:
        raise ValueError(f"k2 must be a positive integer, got {k2!r}")
    if not 0.0 <= lambda_value <= 1.0:
        raise ValueError(f"lambda_value must be in [0, 1], got {lambda_value!r}")


def _k_reciprocal_distance(
    source: _DenseSource | _FeatureSource,
    num_query: int,
    k1: int,
    k2: int,
    lambda_value: float,
    chunk_size: int,
) -> np.ndarray:
    """Steps 1-6 of the module docstring; ``source`` gives squared distances. ``[Q, G]`` float32."""
    num_items = source.num_items
    if max(k1 + 1, k2) > num_items:
        raise ValueError(
            f"k1 + 1 = {k1 + 1} and k2 = {k2} must not exceed the number of images ({num_items})"
        )
    final = np.empty((num_query, num_items - num_query), dtype=np.float32)
    row_max, nearest, nearest_dist = _nearest(
        source, max(k1 + 1, k2), chunk_size, final, lambda_value
    )
    weights = _encode(source, row_max, nearest, nearest_dist, k1)
    if k2 != 1:
        weights = _local_query_expansion(nearest[:, :k2], weights)
    _subtract_overlap(final, weights, lambda_value)
    return final


def _nearest(
    source: _DenseSource | _FeatureSource,
    num_nearest: int,
    chunk_size: int,
    query_gallery: np.ndarray,
    lambda_value: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step 1, a chunk of rows at a time: row maxima ``[N]``, the ``num_nearest`` nearest of each
    row and their squared distances ``[N, num_nearest]``.

    Fills ``query_gallery`` ``[Q, G]`` with ``lambda * d + (1 - lambda)``, the final distance where
    the Jaccard overlap is 0 (step 6 then corrects the entries where it is not).
    """
    num_items, (num_query, _) = source.num_items, query_gallery.shape
    row_max = np.empty(num_items, dtype=np.float32)
    nearest = np.empty((num_items, num_nearest), dtype=np.int64)
    nearest_dist = np.empty((num_items, num_nearest), dtype=np.float32)
    for start in range(0, num_items, chunk_size):
        stop = min(start + chunk_size, num_items)
        scores = source.scores(start, stop)  # ranks as the squared distances do
        top_max_squared = source.to_squared(scores.max(dim=1, keepdim=True).values, start)
        row_max[start:stop] = top_max_squared[:, 0].cpu().numpy()
        values, indices = torch.topk(scores, num_nearest, dim=1, largest=False, sorted=True)
        nearest[start:stop] = indices.cpu().numpy()
        nearest_dist[start:stop] = source.to_squared(values, start).cpu().numpy()
        if start < num_query:  # the lambda-weighted distance term of the result, and 1 - lambda
            query_rows = source.to_squared(scores[: num_query - start, num_query:], start)
            weight = lambda_value / top_max_squared[: num_query - start]
            query_rows = query_rows.mul_(weight).add_(1.0 - lambda_value)
            query_gallery[start : min(stop, num_query)] = query_rows.cpu().numpy()
    if not (row_max > 0).all():
        raise ValueError("an image is at distance 0 from every image; the distances are degenerate")
    return row_max, nearest, nearest_dist


def _reciprocal(neighbours: np.ndarray, k: int) -> np.ndarray:
    """``[N, k + 1]`` mask: is ``neighbours[i, t]`` (t <= k) in ``R(i, k)``."""
    forward = neighbours[:, : k + 1]
    mask = np.empty(forward.shape, dtype=bool)
    step = max(1, 2**22 // (k + 1) ** 2)
    for start in range(0, len(forward), step):
        rows = forward[start : start + step]
        own = np.arange(start, start + len(rows))[:, None, None]
        mask[start : start + step] = (forward[rows] == own).any(axis=2)
    return mask


def _encode(
    source: _DenseSource | _FeatureSource,
    row_max: np.ndarray,
    nearest: np.ndarray,
    nearest_dist: np.ndarray,
    k1: int,
) -> sp.csr_matrix:
    """Sparse ``V`` ``[N, N]`` (steps 2-4): Gaussian weights over the expanded reciprocal sets."""
    half = int(np.around(k1 / 2))
    forward, in_r = nearest[:, : k1 + 1], _reciprocal(nearest, k1)
    forward_half, in_r_half = nearest[:, : half + 1], _reciprocal(nearest, half)
    half_size = in_r_half.sum(axis=1)
    num_items, sentinel = len(nearest), len(nearest)
    rows_out, cols_out, dist_out = [], [], []
    step = max(1, 2**22 // ((k1 + 1) ** 2 * (half + 1)))
    for start in range(0, num_items, step):
        stop = min(start + step, num_items)
        own = np.where(in_r[start:stop], forward[start:stop], -1)  # R(i), -1 where not
        cand = forward[start:stop]  # [n, k1+1]; a candidate c counts only if it is in R(i)
        cand_half = np.where(in_r_half[cand], forward_half[cand], -2)  # R(c, half), -2 where not
        overlap = (cand_half[..., None] == own[:, None, None, :]).any(axis=3).sum(axis=2)
        accept = in_r[start:stop] & (overlap > 2.0 / 3.0 * half_size[cand])
        added = np.where(accept[..., None], cand_half, -2).reshape(stop - start, -1)
        members = np.concatenate([own, added], axis=1)
        members = np.sort(np.where(members < 0, sentinel, members), axis=1)
        keep = members != sentinel
        keep[:, 1:] &= members[:, 1:] != members[:, :-1]
        # Squared distances of the members, looked up in the row's nearest list where they are.
        found = members[:, :, None] == nearest[start:stop, None, :]
        dist = np.take_along_axis(nearest_dist[start:stop], found.argmax(axis=2), axis=1)
        dist[~found.any(axis=2)] = np.nan
        local_rows, _ = np.nonzero(keep)
        rows_out.append(local_rows + start)
        cols_out.append(members[keep])
        dist_out.append(dist[keep])
    rows, cols, dist = (np.concatenate(parts) for parts in (rows_out, cols_out, dist_out))
    missing = np.flatnonzero(np.isnan(dist))
    for begin in range(0, len(missing), PAIRS_PER_CHUNK):
        pick = missing[begin : begin + PAIRS_PER_CHUNK]
        i = torch.from_numpy(rows[pick]).to(source.device)
        j = torch.from_numpy(cols[pick]).to(source.device)
        dist[pick] = source.pairs(i, j).cpu().numpy()
    weight = np.exp(-(dist / row_max[rows]).astype(np.float64))
    weight /= np.bincount(rows, weights=weight, minlength=num_items)[rows]
    return sp.csr_matrix((weight, (rows, cols)), shape=(num_items, num_items))


def _local_query_expansion(nearest: np.ndarray, weights: sp.csr_matrix) -> sp.csr_matrix:
    """Step 5: each row of ``V`` becomes the mean of the rows of its ``k2`` nearest images."""
    num_items, k2 = nearest.shape
    mean = sp.csr_matrix(
        (np.full(nearest.size, 1.0 / k2), nearest.ravel(), np.arange(0, nearest.size + 1, k2)),
        shape=(num_items, num_items),
    )
    return (mean @ weights).tocsr()


def _subtract_overlap(final: np.ndarray, weights: sp.csr_matrix, lambda_value: float) -> None:
    """Step 6, in place: ``final`` ``[Q, G]`` holds ``lambda * d + (1 - lambda)``.

    With ``m = sum_k min(V[q, k], V[g, k])``, the Jaccard term is ``1 - m / (2 - m)``, so
    ``(1 - lambda) * m / (2 - m)`` is subtracted where ``m > 0``. ``m`` is accumulated from the
    nonzeros only: for each nonzero ``V[q, k]``, the gallery images with a nonzero in column ``k``.
    """
    num_query, num_gallery = final.shape
    gallery = weights[num_query:].tocsc()
    col_start, col_rows, col_vals = gallery.indptr[:-1], gallery.indices, gallery.data
    col_len = np.diff(gallery.indptr)
    query = weights[:num_query]
    per_query = np.bincount(
        np.repeat(np.arange(num_query), np.diff(query.indptr)),
        weights=col_len[query.indices],
        minlength=num_query,
    )
    max_rows = max(1, min(num_query, JACCARD_FLOATS_PER_CHUNK // num_gallery))
    buffer = torch.empty(max_rows * num_gallery, dtype=torch.float64)
    start = 0
    while start < num_query:
        stop = start + 1
        budget = per_query[start]
        while stop < num_query and stop - start < max_rows:
            if budget + per_query[stop] > TRIPLETS_PER_CHUNK:
                break
            budget += per_query[stop]
            stop += 1
        block = query[start:stop]
        k = block.indices
        counts = col_len[k]
        q_local = np.repeat(np.repeat(np.arange(stop - start), np.diff(block.indptr)), counts)
        q_value = np.repeat(block.data, counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        where = np.repeat(col_start[k], counts) + offsets
        overlap = (
            buffer[: (stop - start) * num_gallery]
            .zero_()
            .index_add_(
                0,
                torch.from_numpy(q_local * num_gallery + col_rows[where]),
                torch.from_numpy(np.minimum(q_value, col_vals[where])),
            )
        )
        touched = torch.nonzero(overlap).squeeze(1)
        m = overlap[touched]
        out = torch.from_numpy(final[start:stop]).view(-1)  # a view: written in place
        out[touched] -= ((1.0 - lambda_value) * m / (2.0 - m)).float()
        start = stop
