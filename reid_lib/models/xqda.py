"""XQDA, Cross-view Quadratic Discriminant Analysis (Liao et al., CVPR 2015): a metric learned in
closed form, LOMO's partner (:mod:`reid_lib.models.lomo`).

What Liao et al. describe, and we follow: model the differences ``x - z`` of same-person pairs
and of different-person pairs as zero-mean Gaussians with covariances ``S_I`` and ``S_E``
(``S_I`` regularised by ``lambda = 0.001`` on its diagonal); find the projection ``W`` whose
directions maximise ``w' S_E w / w' S_I w`` (the generalised eigenvectors), keep those with a
ratio above 1, and compare two images by

    d(x, z) = (x - z)' W (inv(W' S_I W) - inv(W' S_E W)) W' (x - z).

With more dimensions than training images, the features are first expressed in an orthonormal
basis of the training features' span (a QR decomposition), as Liao et al.'s code does.

Our choices: every pair of two images of one training identity counts as a same-person pair
(Liao et al. pair the two camera views); and, since the generalised eigenvectors make both
projected covariances diagonal (``W' S_I W = I``, ``W' S_E W = diag(r)``), the metric is the
squared Euclidean distance after the linear map ``x -> x' W diag(sqrt(1 - 1/r))``, which is what
:func:`fit_xqda` returns: the evaluation code then ranks by it as it ranks any embedding.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import torch
from torch import Tensor

REGULARISATION = 1e-3


def pair_covariances(
    feats: np.ndarray, pids: np.ndarray, regularisation: float = REGULARISATION
) -> tuple[np.ndarray, np.ndarray]:
    """``(S_I, S_E)``: the mean outer product of ``x_i - x_j`` over same-identity pairs
    (``S_I``, plus ``regularisation`` on its diagonal) and over different-identity pairs (``S_E``),
    from ``[n, d]`` ``feats`` and ``[n]`` ``pids``, without listing the pairs.

    Over the pairs ``i < j`` of a set of ``m`` rows with sum ``s``, the outer products of the
    differences sum to ``m X'X - s s'``; the different-identity sum is all pairs' less the
    same-identity pairs'.

    Raises:
        ValueError: no same-identity pair or no different-identity pair.
    """

    def scatter(rows: np.ndarray) -> np.ndarray:
        total = rows.sum(axis=0)
        return len(rows) * rows.T @ rows - np.outer(total, total)

    sizes = {pid: int((pids == pid).sum()) for pid in np.unique(pids)}
    same_pairs = sum(m * (m - 1) // 2 for m in sizes.values())
    all_pairs = len(pids) * (len(pids) - 1) // 2
    if not same_pairs or same_pairs == all_pairs:
        raise ValueError(
            f"XQDA needs pairs of one identity and pairs of two; got {len(pids)} images of "
            f"{len(sizes)} identities ({same_pairs} same-identity pairs of {all_pairs})"
        )
    intra = sum(scatter(feats[pids == pid]) for pid in sizes)
    extra = (scatter(feats) - intra) / (all_pairs - same_pairs)
    intra = intra / same_pairs + regularisation * np.eye(feats.shape[1])
    return intra, extra


def fit_xqda(feats: Tensor, pids: np.ndarray, regularisation: float = REGULARISATION) -> Tensor:
    """The ``[d, k]`` projection ``P`` of XQDA fitted on training ``feats`` ``[n, d]`` with
    identities ``pids``: ``|P'x - P'z|^2`` is XQDA's distance between ``x`` and ``z`` (see the
    module docstring); ``k`` is the number of directions with a ratio above 1.

    Raises:
        ValueError: no direction separates identities better than it spreads one (ratio > 1).
    """
    x = feats.double().numpy()
    basis, _ = np.linalg.qr(x.T)
    intra, extra = pair_covariances(x @ basis, np.asarray(pids), regularisation)
    ratios, vectors = scipy.linalg.eigh(extra, intra)
    keep = ratios > 1
    if not keep.any():
        raise ValueError(
            "XQDA found no direction in which different identities differ more than one "
            f"identity's images do (largest ratio {ratios.max():.3g})"
        )
    scales = np.sqrt(1 - 1 / ratios[keep])
    return torch.from_numpy(basis @ (vectors[:, keep] * scales)).float()
