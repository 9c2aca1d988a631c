"""Market-1501 multi-query: pool a query's features over the images of its person and camera.

Market-1501 ships hand-drawn boxes (``gt_bbox``) beside the queries. In its multi-query protocol a
query is represented by the pooled features of all those images with the query's pid and camera:
their mean (the usual choice) or, as an option, their element-wise max.

What we chose: the pool holds the multi-query images only (in Market-1501 the query's own box is
among them); a query with none keeps its own feature. No re-normalisation after pooling.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from reid_lib.metrics._inputs import ArrayLike, check_ids
from reid_lib.metrics.distance import as_features

POOLINGS = ("mean", "max")
Pooling = Literal["mean", "max"]


def pool_multi_query(
    q_feats: ArrayLike,
    q_pids: ArrayLike,
    q_camids: ArrayLike,
    mq_feats: ArrayLike,
    mq_pids: ArrayLike,
    mq_camids: ArrayLike,
    *,
    method: Pooling = "mean",
) -> ArrayLike:
    """``[Q, D]`` query features pooled over the multi-query images of the same pid and camera.

    Args:
        q_feats: ``[Q, D]`` query features (numpy or torch; the result has the same type).
        q_pids, q_camids: ``[Q]`` ids of the queries.
        mq_feats: ``[M, D]`` features of the multi-query images.
        mq_pids, mq_camids: ``[M]`` their ids.
        method: ``"mean"`` or ``"max"``.
    """
    if method not in POOLINGS:
        raise ValueError(f"method must be one of {POOLINGS}, got {method!r}")
    queries = as_features(q_feats, "q_feats")
    pool = as_features(mq_feats, "mq_feats", device=queries.device).to(queries.dtype)
    if pool.shape[1] != queries.shape[1]:
        raise ValueError(
            f"q_feats and mq_feats differ in feature dimension: {queries.shape[1]} vs "
            f"{pool.shape[1]}"
        )
    q_pids = check_ids(q_pids, "q_pids", len(queries), "q_feats")
    q_camids = check_ids(q_camids, "q_camids", len(queries), "q_feats")
    mq_pids = check_ids(mq_pids, "mq_pids", len(pool), "mq_feats")
    mq_camids = check_ids(mq_camids, "mq_camids", len(pool), "mq_feats")

    keys, group = np.unique(np.stack([mq_pids, mq_camids], axis=1), axis=0, return_inverse=True)
    group_t = torch.from_numpy(group.reshape(-1)).to(queries.device)
    pooled = torch.zeros(len(keys), pool.shape[1], dtype=pool.dtype, device=pool.device)
    if method == "mean":
        pooled.index_add_(0, group_t, pool)
        counts = torch.bincount(group_t, minlength=len(keys)).to(pool.dtype)
        pooled /= counts[:, None]
    else:
        index = group_t[:, None].expand_as(pool)
        pooled.scatter_reduce_(0, index, pool, reduce="amax", include_self=False)

    # Row of ``pooled`` holding each query's (pid, camid), or -1 where there is none.
    row_of = {(int(pid), int(cam)): row for row, (pid, cam) in enumerate(keys)}
    where = np.array(
        [row_of.get(key, -1) for key in zip(q_pids.tolist(), q_camids.tolist(), strict=True)]
    )
    found = np.flatnonzero(where >= 0)
    result = queries.clone()
    result[torch.from_numpy(found).to(queries.device)] = pooled[
        torch.from_numpy(where[found]).to(queries.device)
    ]
    return result.cpu().numpy() if isinstance(q_feats, np.ndarray) else result
