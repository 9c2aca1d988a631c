"""evaluate(): against a plain per-query loop, against hand-worked numbers, and its input errors."""

import numpy as np
import pytest
import torch

from reid_lib.metrics import NoValidQueryError, RankResult, evaluate


def brute_force(dist, q_pids, g_pids, q_cams, g_cams, max_rank, ap):
    """One query at a time, as the protocol is written (official AP: Market-1501 MATLAB loop)."""
    cmcs, aps, inps = [], [], []
    for i in range(len(q_pids)):
        order = np.argsort(dist[i], kind="stable")
        junk = (g_pids[order] == -1) | ((g_pids[order] == q_pids[i]) & (g_cams[order] == q_cams[i]))
        order = order[~junk]
        hits = g_pids[order] == q_pids[i]
        if not hits.any():
            continue
        hit_positions = np.flatnonzero(hits)
        cmc = np.zeros(max_rank)
        cmc[hit_positions[0] :] = 1.0
        cmcs.append(cmc)
        if ap == "standard":
            precisions = np.cumsum(hits) / np.arange(1, len(hits) + 1)
            aps.append(precisions[hits].sum() / hits.sum())
        else:
            old_recall, old_precision, value, found = 0.0, 1.0, 0.0, 0
            for n, is_hit in enumerate(hits):
                found += int(is_hit)
                recall = found / hits.sum()
                precision = found / (n + 1)
                value += (recall - old_recall) * (old_precision + precision) / 2
                old_recall, old_precision = recall, precision
                if found == hits.sum():
                    break
            aps.append(value)
        inps.append(hits.sum() / (hit_positions[-1] + 1))
    return np.mean(cmcs, axis=0), np.mean(aps), np.mean(inps), len(aps)


def random_case(rng, num_q, num_g, num_ids, ties):
    q_pids = rng.integers(0, num_ids + 1, num_q)  # pid 0 is a person like any other
    g_pids = rng.integers(-1, num_ids + 3, num_g)  # junk (-1) and distractors (ids no query has)
    q_cams = rng.integers(0, 3, num_q)
    g_cams = rng.integers(0, 3, num_g)
    dist = rng.random((num_q, num_g))
    if ties:
        dist = np.round(dist, 1)  # many equal distances: exercises the index tie-break
    return dist, q_pids, g_pids, q_cams, g_cams


@pytest.mark.parametrize("ap", ["standard", "official"])
@pytest.mark.parametrize(
    ("num_q", "num_g", "num_ids", "ties", "max_rank"),
    [
        (40, 200, 15, False, 50),
        (40, 200, 15, True, 50),
        (25, 8, 4, False, 20),  # gallery shorter than max_rank
        (25, 9, 3, True, 20),
        (60, 300, 80, False, 10),  # many queries without any match
    ],
)
def test_matches_per_query_loop(num_q, num_g, num_ids, ties, max_rank, ap):
    for seed in range(5):
        rng = np.random.default_rng(seed)
        case = random_case(rng, num_q, num_g, num_ids, ties)
        cmc, m_ap, m_inp, num_valid = brute_force(*case, max_rank, ap)
        result = evaluate(*case, max_rank=max_rank, ap=ap)
        np.testing.assert_array_equal(result.cmc, cmc)
        np.testing.assert_allclose(result.mAP, m_ap, rtol=1e-12)
        np.testing.assert_allclose(result.mINP, m_inp, rtol=1e-12)
        assert result.num_valid_queries == num_valid
        assert result.num_skipped_queries == num_q - num_valid


def test_float32_and_torch_inputs_give_the_same_result():
    rng = np.random.default_rng(7)
    dist, q_pids, g_pids, q_cams, g_cams = random_case(rng, 30, 120, 10, ties=True)
    dist = dist.astype(np.float32)
    expected = evaluate(dist, q_pids, g_pids, q_cams, g_cams, max_rank=10)
    got = evaluate(
        torch.from_numpy(dist),
        torch.from_numpy(q_pids),
        torch.from_numpy(g_pids),
        torch.from_numpy(q_cams),
        torch.from_numpy(g_cams),
        max_rank=10,
    )
    np.testing.assert_array_equal(got.cmc, expected.cmc)
    assert got.mAP == expected.mAP and got.mINP == expected.mINP
    assert brute_force(dist, q_pids, g_pids, q_cams, g_cams, 10, "standard")[1] == pytest.approx(
        expected.mAP, rel=1e-12
    )


def hand_case():
    """Query 0: pid 1, camera 0. Query 1: pid 3, camera 0, whose only same-pid image is junk.

    Gallery (index: pid, camera, distance to query 0):
      0: pid 2, cam 1, 0.1  -> negative, kept rank 0
      1: pid 1, cam 1, 0.2  -> true match, kept rank 1
      2: pid 1, cam 0, 0.3  -> same pid and camera: dropped
      3: pid 0, cam 1, 0.4  -> distractor (no query has pid 0), a negative, kept rank 2
      4: pid 1, cam 2, 0.5  -> true match, kept rank 3
      5: pid -1, cam 1, 0.6 -> junk: dropped
      6: pid 3, cam 0, 0.7  -> negative, kept rank 4
    """
    dist = np.array(
        [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], [0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]],
    )
    return (
        dist,
        np.array([1, 3]),
        np.array([2, 1, 1, 0, 1, -1, 3]),
        np.array([0, 0]),
        np.array([1, 1, 0, 1, 2, 1, 0]),
    )


def test_hand_worked_standard_ap():
    # Hits at 0-based ranks 1 and 3: precisions 1/2 and 2/4, so AP = 0.5.
    # mINP = 2 matches / rank 4 of the hardest = 0.5. Only 5 items remain: CMC holds its last value.
    result = evaluate(*hand_case(), max_rank=7)
    np.testing.assert_allclose(result.cmc, [0, 1, 1, 1, 1, 1, 1])
    assert result.mAP == pytest.approx(0.5)
    assert result.mINP == pytest.approx(0.5)
    assert (result.num_valid_queries, result.num_skipped_queries) == (1, 1)
    assert result.rank(1) == 0.0 and result.rank(2) == 1.0


def test_hand_worked_official_ap():
    # Trapezoid rule, each hit weighted by 1/2 recall:
    # hit 1 at rank 1: (precision before 0/1 + at hit 1/2) / 2 = 1/4
    # hit 2 at rank 3: (1/3 + 2/4) / 2 = 5/12          -> AP = (1/4 + 5/12) / 2 = 1/3
    result = evaluate(*hand_case(), max_rank=3, ap="official")
    assert result.mAP == pytest.approx(1 / 3)


def test_hand_worked_first_item_hit():
    # Matches at ranks 0 and 2 of [match, negative, match].
    # standard: (1/1 + 2/3) / 2 = 5/6; official: ((1 + 1)/2 + (1/2 + 2/3)/2) / 2 = 19/24; mINP 2/3.
    args = (np.array([[0.1, 0.2, 0.3]]), np.array([5]), np.array([5, 7, 5]), np.array([1]))
    g_cams = np.array([0, 0, 2])
    standard = evaluate(*args, g_cams, max_rank=1)
    official = evaluate(*args, g_cams, max_rank=1, ap="official")
    assert standard.mAP == pytest.approx(5 / 6)
    assert official.mAP == pytest.approx(19 / 24)
    assert standard.mINP == pytest.approx(2 / 3)
    np.testing.assert_array_equal(standard.cmc, [1.0])


def test_ties_are_broken_by_gallery_index():
    # All distances equal: the order is the gallery order, so the match is second (AP 1/2).
    dist = np.full((1, 3), 0.5)
    result = evaluate(dist, [1], [2, 1, 2], [0], [1, 1, 1], max_rank=2)
    assert result.mAP == pytest.approx(0.5)
    np.testing.assert_array_equal(result.cmc, [0.0, 1.0])
    first = evaluate(dist, [1], [1, 2, 2], [0], [1, 1, 1], max_rank=2)
    assert first.mAP == 1.0


def test_result_type():
    result = evaluate(*hand_case(), max_rank=4)
    assert isinstance(result, RankResult)
    assert result.cmc.shape == (4,)
    with pytest.raises(ValueError, match=r"k must be in 1\.\.4"):
        result.rank(5)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"q_pids": np.array([1])}, "q_pids has 1 items but distmat rows has 2"),
        ({"q_camids": np.array([0, 0, 0])}, "q_camids has 3 items"),
        ({"g_pids": np.array([1, 2])}, "g_pids has 2 items but distmat columns has 7"),
        ({"g_camids": np.zeros(8, dtype=int)}, "g_camids has 8 items"),
        ({"q_pids": np.array([[1, 3]])}, "q_pids must be 1-D"),
        ({"q_pids": np.array([1.0, 3.0])}, "q_pids must hold integers"),
        ({"distmat": np.zeros(7)}, "distmat must be 2-D"),
        ({"distmat": np.zeros((2, 7, 1))}, "distmat must be 2-D"),
        ({"distmat": np.zeros((2, 7), dtype=int)}, "distmat must hold floats"),
    ],
)
def test_bad_input_names_the_argument(change, message):
    dist, q_pids, g_pids, q_cams, g_cams = hand_case()
    args = {
        "distmat": dist,
        "q_pids": q_pids,
        "g_pids": g_pids,
        "q_camids": q_cams,
        "g_camids": g_cams,
    }
    args.update(change)
    with pytest.raises((ValueError, TypeError), match=message):
        evaluate(**args)


def test_nan_in_distmat_is_an_error():
    dist, *ids = hand_case()
    dist[1, 4] = np.nan
    with pytest.raises(ValueError, match=r"distmat contains NaN or inf \(first at row 1, column 4"):
        evaluate(dist, *ids)


def test_empty_query_and_gallery_are_errors():
    with pytest.raises(ValueError, match=r"distmat has no rows .* query set is empty"):
        evaluate(np.zeros((0, 3)), [], [1, 2, 3], [], [0, 0, 0])
    with pytest.raises(ValueError, match=r"distmat has no columns .* gallery is empty"):
        evaluate(np.zeros((2, 0)), [1, 2], [], [0, 0], [])


def test_no_valid_query_is_an_error_not_zero():
    # Every same-pid gallery image shares the query's camera or is junk.
    with pytest.raises(NoValidQueryError, match="none of the 2 queries has a true match"):
        evaluate(np.ones((2, 3)), [1, 2], [1, 5, -1], [0, 0], [0, 1, 1])


def test_a_person_numbered_0_is_scored_like_any_other():
    # VIPeR and MSMT17 number their first person 0. Swapping ids 0 and 7 changes nothing.
    dist = np.array([[0.2, 0.1, 0.3], [0.1, 0.3, 0.2]])
    g_cams, q_cams = np.array([1, 1, 1]), np.array([0, 0])
    with_zero = evaluate(dist, [0, 4], [4, 0, 9], q_cams, g_cams, max_rank=3)
    without = evaluate(dist, [7, 4], [4, 7, 9], q_cams, g_cams, max_rank=3)
    assert with_zero.num_valid_queries == 2
    np.testing.assert_array_equal(with_zero.cmc, without.cmc)
    assert with_zero.mAP == without.mAP == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_rank": 0}, "max_rank must be a positive integer"),
        ({"max_rank": 2.5}, "max_rank must be a positive integer"),
        ({"ap": "matlab"}, "ap must be one of"),
    ],
)
def test_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        evaluate(*hand_case(), **kwargs)


def test_ranked_gallery_leaves_out_same_camera_matches_and_junk():
    from reid_lib.metrics import ranked_gallery

    distances = np.array([0.5, 0.1, 0.3, 0.2])
    g_pids, g_camids = np.array([1, 1, -1, 2]), np.array([0, 1, 1, 1])
    top, matches = ranked_gallery(distances, 1, 0, g_pids, g_camids, k=3)
    assert top.tolist() == [1, 3] and matches.tolist() == [True, False]
