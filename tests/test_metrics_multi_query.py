"""pool_multi_query(): hand-worked pooling, fallback, types and input errors."""

import numpy as np
import pytest
import torch

from reid_lib.metrics import pool_multi_query


def case():
    q_feats = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    q_pids, q_cams = np.array([7, 7, 9]), np.array([0, 1, 0])
    # Multi-query images: two of (pid 7, cam 0), one of (7, 1), one of (7, 2), one of (9, 1).
    mq_feats = np.array([[0.0, 4.0], [2.0, 0.0], [5.0, 5.0], [8.0, 8.0], [9.0, 9.0]])
    mq_pids, mq_cams = np.array([7, 7, 7, 7, 9]), np.array([0, 0, 1, 2, 1])
    return q_feats, q_pids, q_cams, mq_feats, mq_pids, mq_cams


def test_mean_pooling_by_pid_and_camera():
    got = pool_multi_query(*case())
    # Query 0 pools (0, 4) and (2, 0); query 1 has one image, (5, 5); query 2 (pid 9, cam 0) has
    # none, so it keeps its own feature.
    np.testing.assert_allclose(got, [[1.0, 2.0], [5.0, 5.0], [3.0, 3.0]])


def test_max_pooling():
    got = pool_multi_query(*case(), method="max")
    np.testing.assert_allclose(got, [[2.0, 4.0], [5.0, 5.0], [3.0, 3.0]])


def test_torch_input_gives_a_tensor_and_leaves_the_input_alone():
    q_feats, q_pids, q_cams, mq_feats, mq_pids, mq_cams = case()
    q_t = torch.from_numpy(q_feats).float()
    got = pool_multi_query(q_t, q_pids, q_cams, torch.from_numpy(mq_feats), mq_pids, mq_cams)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), [[1.0, 2.0], [5.0, 5.0], [3.0, 3.0]])
    np.testing.assert_array_equal(q_t.numpy(), q_feats)


@pytest.mark.parametrize(
    ("index", "value", "message"),
    [
        (0, np.ones((3, 3)), "q_feats and mq_feats differ in feature dimension"),
        (1, np.array([7, 7]), "q_pids has 2 items but q_feats has 3"),
        (2, np.array([0, 1, 0, 1]), "q_camids has 4 items"),
        (4, np.array([7]), "mq_pids has 1 items but mq_feats has 5"),
        (5, np.array([0.0, 0, 1, 2, 1]), "mq_camids must hold integers"),
        (3, np.zeros((0, 2)), "mq_feats is empty"),
        (0, np.array([[np.nan, 1.0]] * 3), "q_feats contains NaN"),
    ],
)
def test_bad_input(index, value, message):
    args = list(case())
    args[index] = value
    with pytest.raises((ValueError, TypeError), match=message):
        pool_multi_query(*args)


def test_bad_method():
    with pytest.raises(ValueError, match="method must be one of"):
        pool_multi_query(*case(), method="median")
