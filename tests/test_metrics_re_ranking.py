"""k-reciprocal re-ranking: against a plain dense implementation, and memory-bounded vs dense."""

import importlib

import numpy as np
import pytest
import torch

from reid_lib.metrics import compute_distance, re_ranking, re_ranking_features

# The package re-exports the function re_ranking under the module's own name.
re_ranking_module = importlib.import_module("reid_lib.metrics.re_ranking")


def dense_reference(q_g, q_q, g_g, k1, k2, lambda_value):
    """Zhong et al.'s algorithm written with full matrices, Python sets and per-pair Jaccard."""
    num_q = len(q_g)
    squared = np.block([[q_q, q_g], [q_g.T, g_g]]) ** 2
    dist = (squared / squared.max(axis=0, keepdims=True)).T
    num = len(dist)
    rank = np.argsort(dist, axis=1, kind="stable")

    def reciprocal(i, k):
        return [j for j in rank[i, : k + 1] if i in rank[j, : k + 1]]

    half = int(np.around(k1 / 2))
    v = np.zeros((num, num))
    for i in range(num):
        own = reciprocal(i, k1)
        expanded = set(own)
        for c in own:
            theirs = reciprocal(c, half)
            if len(set(theirs) & set(own)) > 2 / 3 * len(theirs):
                expanded |= set(theirs)
        members = sorted(expanded)
        weight = np.exp(-dist[i, members])
        v[i, members] = weight / weight.sum()
    if k2 != 1:
        v = np.stack([v[rank[i, :k2]].mean(axis=0) for i in range(num)])
    final = np.empty(q_g.shape)
    for i in range(num_q):
        for j in range(q_g.shape[1]):
            common = np.minimum(v[i], v[num_q + j]).sum()
            jaccard = 1 - common / (2 - common)
            final[i, j] = (1 - lambda_value) * jaccard + lambda_value * dist[i, num_q + j]
    return final


def identity_features(seed, num_q, num_g, num_ids=8, dim=16):
    """Features clustered by identity, so that reciprocal neighbours exist."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(num_ids, dim))
    q = centres[rng.integers(0, num_ids, num_q)] + 0.5 * rng.normal(size=(num_q, dim))
    g = centres[rng.integers(0, num_ids, num_g)] + 0.5 * rng.normal(size=(num_g, dim))
    return q.astype(np.float32), g.astype(np.float32)


def distances(q, g, metric="euclidean"):
    return tuple(compute_distance(a, b, metric) for a, b in ((q, g), (q, q), (g, g)))


@pytest.mark.parametrize(
    ("seed", "k1", "k2", "lambda_value"),
    [(0, 20, 6, 0.3), (1, 6, 3, 0.3), (2, 5, 1, 0.5), (3, 7, 4, 0.0), (4, 3, 9, 1.0)],
)
def test_dense_matches_reference(seed, k1, k2, lambda_value):
    q, g = identity_features(seed, 12, 50)
    mats = distances(q, g)
    expected = dense_reference(*(m.astype(np.float64) for m in mats), k1, k2, lambda_value)
    got = re_ranking(*mats, k1=k1, k2=k2, lambda_value=lambda_value)
    assert got.shape == (12, 50) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_re_ranking_changes_the_distances():
    q, g = identity_features(5, 10, 40)
    mats = distances(q, g)
    got = re_ranking(*mats, k1=6, k2=3)
    normalised = (np.concatenate([mats[1], mats[0]], axis=1) ** 2).max(axis=1, keepdims=True)
    assert not np.allclose(got, mats[0] ** 2 / normalised, atol=1e-3)
    np.testing.assert_allclose(
        re_ranking(*mats, k1=6, k2=3, lambda_value=1.0), mats[0] ** 2 / normalised, rtol=1e-5
    )


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("chunk_size", [7, 1024])
def test_features_match_dense(metric, chunk_size):
    q, g = identity_features(6, 20, 90)
    dense = re_ranking(*distances(q, g, metric), k1=10, k2=4)
    bounded = re_ranking_features(q, g, metric=metric, k1=10, k2=4, chunk_size=chunk_size)
    assert isinstance(bounded, np.ndarray) and bounded.shape == (20, 90)
    np.testing.assert_allclose(bounded, dense, atol=1e-5)


def test_jaccard_chunks_do_not_change_the_result(monkeypatch):
    q, g = identity_features(7, 25, 80)
    whole = re_ranking_features(q, g, k1=8, k2=3)
    monkeypatch.setattr(re_ranking_module, "TRIPLETS_PER_CHUNK", 50)
    # Only float rounding of the distance blocks may differ.
    np.testing.assert_allclose(re_ranking_features(q, g, k1=8, k2=3), whole, atol=1e-6)


def test_torch_features_give_a_tensor():
    q, g = identity_features(8, 6, 30)
    got = re_ranking_features(torch.from_numpy(q), torch.from_numpy(g), k1=5, k2=2)
    assert isinstance(got, torch.Tensor) and got.shape == (6, 30)
    np.testing.assert_allclose(got.numpy(), re_ranking_features(q, g, k1=5, k2=2))


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((np.ones((3, 4)), np.ones((2, 2)), np.ones((4, 4))), {}, r"q_q must be \[3, 3\]"),
        ((np.ones((3, 4)), np.ones((3, 3)), np.ones((3, 3))), {}, r"g_g must be \[4, 4\]"),
        ((np.ones(4), np.ones((3, 3)), np.ones((4, 4))), {}, "q_g must be 2-D"),
        ((np.ones((0, 4)), np.ones((0, 0)), np.ones((4, 4))), {}, "q_g has no rows"),
        ((np.full((3, 4), np.nan), np.ones((3, 3)), np.ones((4, 4))), {}, "q_g contains NaN"),
        ((np.ones((3, 4)), np.ones((3, 3)), np.ones((4, 4))), {"k1": 0}, "k1 must be a positive"),
        ((np.ones((3, 4)), np.ones((3, 3)), np.ones((4, 4))), {"k2": 0}, "k2 must be a positive"),
        (
            (np.ones((3, 4)), np.ones((3, 3)), np.ones((4, 4))),
            {"lambda_value": 1.5},
            r"lambda_value must be in \[0, 1\]",
        ),
        ((np.ones((3, 4)), np.ones((3, 3)), np.ones((4, 4))), {"k1": 7}, "must not exceed"),
    ],
)
def test_dense_bad_input(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        re_ranking(*args, **kwargs)


@pytest.mark.parametrize(
    ("q", "g", "kwargs", "message"),
    [
        (np.ones((3, 4)), np.ones((5, 3)), {}, "q_feats and g_feats differ in feature dimension"),
        (np.ones((0, 4)), np.ones((5, 4)), {}, "q_feats is empty"),
        (np.ones((3, 4)), np.ones((0, 4)), {}, "g_feats is empty"),
        (np.ones(4), np.ones((5, 4)), {}, "q_feats must be 2-D"),
        (np.ones((3, 4)), np.full((5, 4), np.nan), {}, "g_feats contains NaN"),
        (np.ones((3, 4)), np.ones((5, 4)), {"metric": "l1"}, "metric must be one of"),
    ],
)
def test_features_bad_input(q, g, kwargs, message):
    with pytest.raises(ValueError, match=message):
        re_ranking_features(q, g, **kwargs)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_matches_cpu():
    q, g = identity_features(9, 15, 60)
    got = re_ranking_features(torch.from_numpy(q).cuda(), torch.from_numpy(g).cuda(), k1=6, k2=3)
    assert got.is_cuda
    np.testing.assert_allclose(got.cpu().numpy(), re_ranking_features(q, g, k1=6, k2=3), atol=1e-5)
