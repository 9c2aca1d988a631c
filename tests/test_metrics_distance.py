"""compute_distance(): against scipy's cdist, chunking invariance, types, and input errors."""

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

from reid_lib.metrics import compute_distance


@pytest.fixture
def feats():
    rng = np.random.default_rng(0)
    return rng.normal(size=(13, 6)), rng.normal(size=(29, 6))


@pytest.mark.parametrize(
    ("metric", "scipy_name"), [("euclidean", "euclidean"), ("cosine", "cosine")]
)
@pytest.mark.parametrize("chunk_size", [1, 4, 2048])
def test_matches_scipy(feats, metric, scipy_name, chunk_size):
    a, b = feats
    expected = cdist(a, b, scipy_name)
    got = compute_distance(a, b, metric, chunk_size=chunk_size)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    np.testing.assert_allclose(got, expected, atol=1e-10)
    squared = compute_distance(a, b, metric, squared=True, chunk_size=chunk_size)
    np.testing.assert_allclose(squared, expected**2, atol=1e-10)


def test_torch_in_torch_out_float32(feats):
    a, b = (torch.from_numpy(x).float() for x in feats)
    got = compute_distance(a, b)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), cdist(*feats), atol=1e-5)


def test_identical_rows_are_at_distance_zero(feats):
    a = feats[0].astype(np.float32)
    np.testing.assert_allclose(
        np.diag(compute_distance(a, a)), 0.0, atol=5e-3
    )  # float32 cancellation
    assert (compute_distance(a, a, squared=True) >= 0).all()


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "message"),
    [
        (np.zeros((2, 3)), np.zeros((4, 5)), {}, "a and b differ in feature dimension: 3 vs 5"),
        (np.zeros(3), np.zeros((4, 3)), {}, r"a must be 2-D \[num_items, dim\]"),
        (np.zeros((2, 3)), np.zeros((0, 3)), {}, r"b is empty \(shape \(0, 3\)\)"),
        (np.zeros((0, 3)), np.zeros((2, 3)), {}, "a is empty"),
        (np.array([[np.nan, 0.0]]), np.zeros((2, 2)), {}, "a contains NaN or inf"),
        (np.zeros((2, 3)), np.zeros((2, 3)), {"metric": "l1"}, "metric must be one of"),
        (np.zeros((2, 3)), np.zeros((2, 3)), {"chunk_size": 0}, "chunk_size must be positive"),
        ([[0.0]], np.zeros((2, 1)), {}, "a must be a numpy array or a torch tensor"),
    ],
)
def test_bad_input(a, b, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        compute_distance(a, b, **kwargs)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_matches_cpu(feats):
    a, b = (torch.from_numpy(x).float() for x in feats)
    got = compute_distance(a.cuda(), b.cuda(), "cosine")
    assert got.is_cuda
    np.testing.assert_allclose(got.cpu().numpy(), compute_distance(a, b, "cosine"), atol=1e-5)
