"""Where our LOMO + XQDA differs from Liao et al.'s code, and what each difference costs on VIPeR.

    python -m benchmarks.lomo_variants [--data-root $REID_DATA_ROOT] [--splits 0 1 2 3 4]
        [--width 64] [--threads 2] [--liao-splits]

Our LOMO + XQDA (``reid_lib.models.lomo``, ``xqda``) is measured against the Rank-1 that Liao et
al. (CVPR 2015) report on VIPeR. This script swaps one of our choices at a time for another and
prints the mean single-query Rank-1 over the given splits (no flip averaging, unlike the study
row, so the absolute numbers are a little lower; compare the lines with each other):

- colour: our first Retinex (each channel's multi-scale Retinex, stretched over every channel
  together, or per channel); multi-scale Retinex with colour restoration (Jobson et al.'s MSRCR:
  alpha 125, beta 46) stretched per channel or jointly; ours (MSRCP) with Gaussians cut at 2
  sigmas (MATLAB's ``imgaussfilt``) instead of 3; or no Retinex at all, the reference point;
- the lower scales: the colour image averaged 2x2 and quantised again (our first form) instead
  of each channel's HSV level averaged and floored (Liao et al.'s ``ColorPooling``);
- grey: the mean of R, G and B (our first form) instead of MATLAB's ``rgb2gray``;
- XQDA: different-person pairs across the two views only (theirs) instead of all pairs; and their
  solver, the SVD of ``inv(S_I) S_E`` with the full metric ``inv(W' S_I W) - inv(W' S_E W)``,
  instead of the generalised eigenvectors.

``--liao-splits`` runs on Liao et al.'s own ten splits instead of ours: their demo draws them
with MATLAB's ``rng(0)`` and ``randperm(632)`` (:func:`liao_viper_splits`).

It needs VIPeR under ``--data-root`` (``peta-reid/VIPeR``); it takes about a minute per line on
two cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.linalg
import torch

from reid_lib.data import build_dataset
from reid_lib.data.loaders import read_image
from reid_lib.data.protocol_splits import IdSplit, splits_file_name, write_splits
from reid_lib.data.registry import SMALL_REAL_SETS
from reid_lib.data.transforms import build_test_transforms
from reid_lib.data.viper import read_viper_records
from reid_lib.metrics import compute_distance, evaluate
from reid_lib.models.lomo import LOMO, lomo_descriptor, multi_scale_retinex, retinex, stretch
from reid_lib.models.xqda import REGULARISATION, fit_xqda, pair_covariances

#: MATLAB's ``rng(0)``: the Mersenne Twister seeded with 5489, MT19937's own default (NumPy's
#: ``RandomState(5489)`` draws the same doubles as MATLAB's ``rand`` after ``rng(0)``).
MATLAB_RNG0_SEED = 5489

#: A metric fitted on training descriptors: ``(feats, pids, cams) -> distance(query, gallery)``.
Fit = Callable[[np.ndarray, np.ndarray, np.ndarray], Callable[[np.ndarray, np.ndarray], np.ndarray]]


def _channel_retinex(rgb: torch.Tensor) -> torch.Tensor:
    return multi_scale_retinex(rgb * 255 + 1)


def first_retinex(rgb: torch.Tensor) -> torch.Tensor:
    """Our first form: each channel's multi-scale Retinex, stretched over every channel together."""
    return stretch(_channel_retinex(rgb))


def first_retinex_per_channel(rgb: torch.Tensor) -> torch.Tensor:
    """Each channel's multi-scale Retinex, stretched per channel."""
    return stretch(_channel_retinex(rgb), per_channel=True)


def short_kernel_retinex(rgb: torch.Tensor) -> torch.Tensor:
    """Our Retinex (MSRCP) with Gaussians cut at 2 sigmas (``imgaussfilt``'s size)."""
    return retinex(rgb, truncate=2.0)


def _msrcr(rgb: torch.Tensor, alpha: float = 125.0, beta: float = 46.0) -> torch.Tensor:
    """Multi-scale Retinex with colour restoration, before any stretch (a gain and an offset
    before a linear stretch would change nothing)."""
    intensity = rgb * 255 + 1
    restoration = beta * ((alpha * intensity).log() - intensity.sum(1, keepdim=True).log())
    return multi_scale_retinex(intensity) * restoration


def msrcr(rgb: torch.Tensor) -> torch.Tensor:
    """MSRCR, stretched per channel."""
    return stretch(_msrcr(rgb), per_channel=True)


def msrcr_joint(rgb: torch.Tensor) -> torch.Tensor:
    """MSRCR, stretched over every channel together."""
    return stretch(_msrcr(rgb))


def no_retinex(rgb: torch.Tensor) -> torch.Tensor:
    """The image as it is: what any Retinex adds or takes away."""
    return rgb


def mean_grey(rgb: torch.Tensor) -> torch.Tensor:
    """Our first grey image, the mean of R, G and B: ``[N, 1, H, W]`` in [0, 255]."""
    return rgb.mean(dim=1, keepdim=True) * 255


def _euclidean(projection: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def distance(query: np.ndarray, gallery: np.ndarray) -> np.ndarray:
        return compute_distance(query @ projection, gallery @ projection, squared=True)

    return distance


def ours(feats: np.ndarray, pids: np.ndarray, cams: np.ndarray):
    """The library's XQDA (every pair; generalised eigenvectors)."""
    return _euclidean(fit_xqda(torch.from_numpy(feats), pids).double().numpy())


def _basis(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    basis, _ = np.linalg.qr(feats.T)
    return basis, feats @ basis


def cross_view_pairs(feats: np.ndarray, pids: np.ndarray, cams: np.ndarray):
    """XQDA whose different-person pairs all cross the two views (Liao et al.'s)."""
    basis, z = _basis(feats)
    first = cams == cams.min()
    a, b, pa, pb = z[first], z[~first], pids[first], pids[~first]
    same_a, same_b = np.nonzero(pa[:, None] == pb[None, :])
    diffs = a[same_a] - b[same_b]
    intra = diffs.T @ diffs / len(diffs) + REGULARISATION * np.eye(z.shape[1])
    sum_a, sum_b = a.sum(0), b.sum(0)
    every = len(b) * a.T @ a + len(a) * b.T @ b - np.outer(sum_a, sum_b) - np.outer(sum_b, sum_a)
    extra = (every - diffs.T @ diffs) / (len(a) * len(b) - len(diffs))
    ratios, vectors = scipy.linalg.eigh(extra, intra)
    keep = ratios > 1
    return _euclidean(basis @ (vectors[:, keep] * np.sqrt(1 - 1 / ratios[keep])))


def svd_solver(feats: np.ndarray, pids: np.ndarray, cams: np.ndarray):
    """XQDA as Liao et al.'s code solves it: SVD of ``inv(S_I) S_E``, the full metric."""
    basis, z = _basis(feats)
    intra, extra = pair_covariances(z, pids)
    vectors, values, _ = np.linalg.svd(np.linalg.solve(intra, extra))
    kept = vectors[:, values > 1]
    metric = np.linalg.inv(kept.T @ intra @ kept) - np.linalg.inv(kept.T @ extra @ kept)
    w = basis @ kept

    def distance(query: np.ndarray, gallery: np.ndarray) -> np.ndarray:
        q, g = query @ w, gallery @ w
        q_norm = np.einsum("id,de,ie->i", q, metric, q)
        g_norm = np.einsum("id,de,ie->i", g, metric, g)
        return q_norm[:, None] + g_norm[None, :] - 2 * q @ metric @ g.T

    return distance


#: Each variant: the keyword arguments of ``lomo_descriptor`` it changes, and its XQDA.
VARIANTS: dict[str, tuple[dict[str, Any], Fit]] = {
    "ours": ({}, ours),
    "first Retinex (per channel, joint stretch)": ({"colour": first_retinex}, ours),
    "first Retinex, per-channel stretch": ({"colour": first_retinex_per_channel}, ours),
    "MSRCR, per-channel stretch": ({"colour": msrcr}, ours),
    "MSRCR, joint stretch": ({"colour": msrcr_joint}, ours),
    "Gaussians cut at 2 sigma": ({"colour": short_kernel_retinex}, ours),
    "no Retinex": ({"colour": no_retinex}, ours),
    "lower scales pool the image, not HSV levels": ({"pool_levels": False}, ours),
    "mean-of-RGB grey": ({"grey": mean_grey}, ours),
    "cross-view different-person pairs": ({}, cross_view_pairs),
    "their XQDA solver (SVD, full metric)": ({}, svd_solver),
}


def matlab_randperms(n: int, count: int, seed: int = MATLAB_RNG0_SEED) -> list[np.ndarray]:
    """``count`` successive ``randperm(n)`` of MATLAB after ``rng(0)``, 0-based.

    MATLAB's ``randperm(n)`` is the order that sorts ``n`` draws of ``rand`` (its documentation's
    example, ``6 3 7 8 5 1 2 4`` for ``randperm(8)`` after ``rng default``, is that order)."""
    stream = np.random.RandomState(seed)
    return [np.argsort(stream.random_sample(n), kind="stable") for _ in range(count)]


def liao_viper_splits(ids: Sequence[int], folds: int = 10) -> list[IdSplit]:
    """The ten VIPeR splits of Liao et al.'s ``Demo_XQDA.m``: fold ``k`` permutes the people with
    the ``k``-th ``randperm`` after ``rng(0)`` and trains on the first half. Their people are the
    rows of their descriptor file; we take them in the order of the ids (the files' names)."""
    ids = sorted(ids)
    half = len(ids) // 2
    splits = []
    for perm in matlab_randperms(len(ids), folds):
        train, test = perm[:half], perm[half:]
        splits.append(
            IdSplit(tuple(sorted(ids[i] for i in train)), tuple(sorted(ids[i] for i in test)))
        )
    return splits


def write_liao_splits(root: str, folder: Path) -> Path:
    """Write :func:`liao_viper_splits` of the VIPeR at ``root`` as a published splits file in
    ``folder`` (the loaders use such a file as it is) and return ``folder``."""
    _, records = read_viper_records(root)
    splits = liao_viper_splits(sorted({r.pid for r in records}))
    write_splits(folder / splits_file_name("viper", 0), "viper", 0, splits)
    return folder


def descriptors(root: str, width: int, options: dict[str, Any]) -> dict[str, np.ndarray]:
    """Every VIPeR image's LOMO descriptor under ``lomo_descriptor(**options)``, by path."""
    _, records = read_viper_records(root)
    paths = sorted(str(r.path) for r in records)
    transform = build_test_transforms((128, width))
    rgb = LOMO().rgb(torch.stack([transform(read_image(p)) for p in paths]))
    feats = torch.cat(
        [lomo_descriptor(rgb[i : i + 128], **options) for i in range(0, len(rgb), 128)]
    )
    return dict(zip(paths, feats.double().numpy(), strict=True))


def rank1(
    variant: str,
    root: str,
    splits: Sequence[int],
    width: int,
    splits_dir: Path | None = None,
    computed: dict | None = None,
) -> float:
    """Mean single-query Rank-1 (percent) of ``variant`` over VIPeR's ``splits`` (ours, or the
    published splits file in ``splits_dir``). ``computed`` keeps the :func:`descriptors` by
    their options, for the variants that differ only in XQDA."""
    options, fit = VARIANTS[variant]
    computed = {} if computed is None else computed
    key = tuple(sorted(options.items()))
    if key not in computed:
        computed[key] = descriptors(root, width, options)
    by_path = computed[key]
    where = {"splits_dir": splits_dir} if splits_dir else {}
    scores = []
    for split in splits:
        data = build_dataset("viper", root, split_index=split, **where)

        def stack(records):
            return np.stack([by_path[str(r.path)] for r in records])

        distance = fit(
            stack(data.train),
            np.array([r.pid for r in data.train]),
            np.array([r.camid for r in data.train]),
        )
        result = evaluate(
            distance(stack(data.query), stack(data.gallery)),
            [r.pid for r in data.query],
            [r.pid for r in data.gallery],
            [r.camid for r in data.query],
            [r.camid for r in data.gallery],
        )
        scores.append(100 * result.rank(1))
    return float(np.mean(scores))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-root", default=os.environ.get("REID_DATA_ROOT"))
    parser.add_argument("--splits", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--width", type=int, default=64, help="image width (Liao et al.: 48)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS), metavar="NAME"
    )
    parser.add_argument(
        "--liao-splits", action="store_true", help="Liao et al.'s ten splits (MATLAB rng(0))"
    )
    args = parser.parse_args(argv)
    if not args.data_root:
        parser.error("--data-root (or $REID_DATA_ROOT): the folder holding peta-reid/VIPeR")
    torch.set_num_threads(args.threads)
    root = os.path.join(args.data_root, SMALL_REAL_SETS["viper"])
    whose = "Liao et al.'s splits" if args.liao_splits else "splits"
    print(f"LOMO + XQDA on VIPeR, {whose} {args.splits}, 128x{args.width}, mean Rank-1 (%)")
    print(f"{'variant':44s} {'Rank-1':>7s}")
    computed: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        splits_dir = write_liao_splits(root, Path(folder)) if args.liao_splits else None
        for variant in args.variants:
            score = rank1(variant, root, args.splits, args.width, splits_dir, computed)
            print(f"{variant:44s} {score:7.1f}", flush=True)


if __name__ == "__main__":
    main()
