"""Ranking metrics of person re-identification: CMC, mAP and mINP, computed without per-query loops.

The protocol (Market-1501's, which torchreid and fast-reid follow):

- for each query, gallery items with the query's pid *and* camera are dropped, and so are junk items
  (pid ``-1``);
- distractors stay in the gallery as negatives: they are gallery images whose pid no query has
  (Market-1501's ``0``; the loaders keep such images out of the query set). The metric itself
  treats pid ``0`` as any other id, as Market-1501's MATLAB code does, so that a set whose first
  person is numbered 0 (VIPeR, MSMT17) is scored on every query;
- a query left with no true match is skipped and counted in ``num_skipped_queries``;
- the gallery is ordered by ascending distance, ties broken by gallery index (a stable sort);
- CMC at rank k is the fraction of valid queries whose first true match is within the first k items;
  where fewer than ``max_rank`` items remain, a query's CMC holds its last value.

Two AP rules circulate, and both are offered (the book compares them):

- ``"standard"``: the mean over true matches of the precision at each hit (torchreid, fast-reid);
- ``"official"``: the Market-1501 MATLAB ``compute_AP`` rule, a trapezoid that averages the
  precision just before and at each hit (the precision before the first item counts as 1).

mINP (Ye et al., 2021) is the number of true matches over the rank of the hardest one.

How it is fast (our choice): rather than argsort every row, rows are sorted by value (numpy's SIMD
sort, a chunk of rows at a time in one buffer), and the rank of each true match is found by a
row-wise binary search; ties with the match's distance are resolved by gallery index. The result
is the per-query loop's (see the tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from reid_lib.data.records import JUNK_PID
from reid_lib.metrics._inputs import ArrayLike, check_ids, check_matrix, to_numpy

AP_RULES = ("standard", "official")
APRule = Literal["standard", "official"]


class NoValidQueryError(ValueError):
    """No query has a true match in the gallery, so no metric is defined."""


@dataclass(frozen=True)
class RankResult:
    """Metrics of one ranking.

    Attributes:
        cmc: ``[max_rank]`` float array; ``cmc[k]`` is the fraction of valid queries whose first
            true match is within the first ``k + 1`` items (so ``cmc[0]`` is Rank-1).
        mAP: mean average precision over valid queries, in [0, 1].
        mINP: mean inverse negative penalty over valid queries, in [0, 1].
        num_valid_queries: queries with at least one true match.
        num_skipped_queries: queries with none (left out of every mean).
    """

    cmc: np.ndarray
    mAP: float
    mINP: float
    num_valid_queries: int
    num_skipped_queries: int

    def rank(self, k: int) -> float:
        """Rank-k accuracy (1-based ``k``), e.g. ``result.rank(1)``."""
        if not 1 <= k <= len(self.cmc):
            raise ValueError(f"k must be in 1..{len(self.cmc)}, got {k}")
        return float(self.cmc[k - 1])


def evaluate(
    distmat: ArrayLike,
    q_pids: ArrayLike,
    g_pids: ArrayLike,
    q_camids: ArrayLike,
    g_camids: ArrayLike,
    *,
    max_rank: int = 50,
    ap: APRule = "standard",
) -> RankResult:
    """CMC, mAP and mINP of a query-gallery distance matrix.

    Args:
        distmat: ``[num_query, num_gallery]`` finite distances (numpy or torch, any device).
        q_pids, q_camids: ``[num_query]`` integer person and camera ids of the queries.
        g_pids, g_camids: ``[num_gallery]`` integer ids of the gallery (pid ``-1`` junk; a pid no
            query has is a distractor).
        max_rank: length of the CMC curve.
        ap: ``"standard"`` or ``"official"`` (see the module docstring).

    Raises:
        ValueError: a malformed argument (named in the message).
        NoValidQueryError: no query has a true match.
    """
    dist = to_numpy(distmat, "distmat")
    check_matrix(dist, "distmat")
    num_q, num_g = dist.shape
    q_pids = check_ids(q_pids, "q_pids", num_q, "distmat rows")
    q_camids = check_ids(q_camids, "q_camids", num_q, "distmat rows")
    g_pids = check_ids(g_pids, "g_pids", num_g, "distmat columns")
    g_camids = check_ids(g_camids, "g_camids", num_g, "distmat columns")
    if isinstance(max_rank, bool) or not isinstance(max_rank, int | np.integer) or max_rank < 1:
        raise ValueError(f"max_rank must be a positive integer, got {max_rank!r}")
    if ap not in AP_RULES:
        raise ValueError(f"ap must be one of {AP_RULES}, got {ap!r}")

    pair_q, pair_g = _same_pid_pairs(q_pids, g_pids)
    same_cam = q_camids[pair_q] == g_camids[pair_g]
    true_match = ~same_cam & (g_pids[pair_g] != JUNK_PID)
    match_q, match_g = pair_q[true_match], pair_g[true_match]
    dropped = (np.flatnonzero(g_pids == JUNK_PID), pair_q[same_cam], pair_g[same_cam])
    ranks = _ranks_among_kept(dist, dropped, match_q, match_g)
    order = np.lexsort((ranks, match_q))
    match_q, ranks = match_q[order], ranks[order]
    num_matches = np.bincount(match_q, minlength=num_q)
    valid = num_matches > 0
    num_valid = int(valid.sum())
    if num_valid == 0:
        raise NoValidQueryError(
            f"none of the {num_q} queries has a true match in the gallery (same pid, other camera, "
            "pid not -1); check q_pids/g_pids and q_camids/g_camids"
        )
    first = np.cumsum(num_matches) - num_matches
    hit = np.arange(len(match_q)) - first[match_q] + 1  # 1-based index of each hit in its query
    precision_at_hit = hit / (ranks + 1)
    if ap == "standard":
        terms = precision_at_hit
    else:
        precision_before = np.where(ranks > 0, (hit - 1) / np.maximum(ranks, 1), 1.0)
        terms = (precision_before + precision_at_hit) / 2
    counts = num_matches[valid]
    aps = np.bincount(match_q, weights=terms, minlength=num_q)[valid] / counts
    first_rank = ranks[first[valid]]
    hardest_rank = ranks[first[valid] + counts - 1]
    cmc = (first_rank[:, None] <= np.arange(max_rank)[None, :]).mean(axis=0)
    return RankResult(
        cmc=cmc,
        mAP=float(aps.mean()),
        mINP=float((counts / (hardest_rank + 1)).mean()),
        num_valid_queries=num_valid,
        num_skipped_queries=num_q - num_valid,
    )


def _same_pid_pairs(q_pids: np.ndarray, g_pids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (query, gallery) index pairs with equal pids; by query, then gallery index."""
    order = np.argsort(g_pids, kind="stable")
    sorted_pids = g_pids[order]
    lo = np.searchsorted(sorted_pids, q_pids, side="left")
    counts = np.searchsorted(sorted_pids, q_pids, side="right") - lo
    pair_q = np.repeat(np.arange(len(q_pids)), counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return pair_q, order[np.repeat(lo, counts) + offset]


def _ranks_among_kept(
    dist: np.ndarray,
    dropped: tuple[np.ndarray, np.ndarray, np.ndarray],
    rows: np.ndarray,
    cols: np.ndarray,
    chunk_rows: int = 256,
) -> np.ndarray:
    """0-based rank of item ``cols[i]`` in row ``rows[i]`` of ``dist`` among the kept items.

    ``dropped`` is ``(junk columns, rows, columns)``: columns dropped for every row, and single
    (row, column) entries. ``rows`` must be sorted. The order is ascending distance, then column.
    Rows are sorted by value a chunk at a time in one reused buffer (dropped entries set to inf).
    """
    junk_cols, drop_rows, drop_cols = dropped
    ranks = np.empty(len(rows), dtype=np.int64)
    buffer = np.empty((min(chunk_rows, len(dist)), dist.shape[1]), dtype=dist.dtype)
    for start in range(0, len(dist), chunk_rows):
        stop = min(start + chunk_rows, len(dist))
        block = buffer[: stop - start]
        block[...] = dist[start:stop]
        block[:, junk_cols] = np.inf
        lo, hi = np.searchsorted(drop_rows, [start, stop])
        block[drop_rows[lo:hi] - start, drop_cols[lo:hi]] = np.inf
        block.sort(axis=1)
        lo, hi = np.searchsorted(rows, [start, stop])
        local, values = rows[lo:hi] - start, dist[rows[lo:hi], cols[lo:hi]]
        below = _row_searchsorted(block, local, values, right=False)
        upto = _row_searchsorted(block, local, values, right=True)
        ranks[lo:hi] = below
        for i in np.flatnonzero(upto - below > 1) + lo:  # equal distances: lower column first
            row = dist[rows[i], : cols[i]]
            kept = np.ones(cols[i], dtype=bool)
            kept[junk_cols[junk_cols < cols[i]]] = False
            in_row = drop_cols[drop_rows == rows[i]]
            kept[in_row[in_row < cols[i]]] = False
            ranks[i] += np.count_nonzero((row == dist[rows[i], cols[i]]) & kept)
    return ranks


def _row_searchsorted(
    sorted_rows: np.ndarray, rows: np.ndarray, values: np.ndarray, *, right: bool
) -> np.ndarray:
    """``np.searchsorted(sorted_rows[r], v)`` for each pair ``(r, v)``, as one vectorised search."""
    lo = np.zeros(len(rows), dtype=np.int64)
    hi = np.full(len(rows), sorted_rows.shape[1], dtype=np.int64)
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        probe = sorted_rows[rows, np.minimum(mid, sorted_rows.shape[1] - 1)]
        go_right = active & ((probe <= values) if right else (probe < values))
        lo = np.where(go_right, mid + 1, lo)
        hi = np.where(active & ~go_right, mid, hi)


def ranked_gallery(
    distances: np.ndarray,
    q_pid: int,
    q_camid: int,
    g_pids: np.ndarray,
    g_camids: np.ndarray,
    k: int = 10,
) -> tuple[np.ndarray, np.ndarray]:
    """The query's top-``k`` gallery indices and whether each is a true match.

    Follows the evaluation protocol of ``reid_lib.metrics``: gallery images of the query's pid in
    the query's camera, and junk images (pid -1), are left out; ties go to the lower index.
    """
    g_pids, g_camids = np.asarray(g_pids), np.asarray(g_camids)
    kept = ~((g_pids == q_pid) & (g_camids == q_camid)) & (g_pids != JUNK_PID)
    order = np.flatnonzero(kept)[np.argsort(distances[kept], kind="stable")][:k]
    return order, g_pids[order] == q_pid
