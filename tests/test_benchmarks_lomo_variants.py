"""The LOMO + XQDA variants benchmark: each variant runs end to end on a VIPeR-named folder, and
the swapped pieces do what they say."""

from __future__ import annotations

import pytest
import torch

from benchmarks.lomo_variants import (
    VARIANTS,
    first_retinex,
    first_retinex_per_channel,
    liao_viper_splits,
    main,
    matlab_randperms,
    mean_grey,
    msrcr,
    msrcr_joint,
    no_retinex,
    rank1,
    short_kernel_retinex,
    write_liao_splits,
)
from reid_lib.data import build_dataset
from reid_lib.models.lomo import retinex
from tests.test_studies import write_fake_viper


def test_each_variant_scores_a_rank1_on_a_viper_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REID_SPLITS_DIR", str(tmp_path / "splits"))
    root = tmp_path / "data" / "peta-reid" / "VIPeR"
    write_fake_viper(root, num_ids=20)
    computed = {}
    scores = {
        variant: rank1(variant, str(root), [0], 64, computed=computed) for variant in VARIANTS
    }
    steps = {tuple(sorted(options.items())) for options, _ in VARIANTS.values()}
    assert len(computed) == len(steps) < len(VARIANTS), "the XQDA variants share descriptors"
    assert all(0.0 <= score <= 100.0 for score in scores.values())
    main(["--data-root", str(tmp_path / "data"), "--splits", "0", "--threads", "1"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "LOMO + XQDA on VIPeR, splits [0], 128x64, mean Rank-1 (%)"
    assert [line[:44].rstrip() for line in lines[2:]] == list(VARIANTS)
    assert float(lines[2].split()[-1]) == pytest.approx(scores["ours"], abs=0.05)
    main(["--data-root", str(tmp_path / "data"), "--splits", "0", "--variants", "ours"])
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]] == ["ours"]


def test_the_swapped_pieces_keep_their_ranges():
    rgb = torch.rand(2, 3, 40, 20, generator=torch.Generator().manual_seed(0))
    for colour in (msrcr, first_retinex_per_channel):
        image = colour(rgb)
        assert image.shape == rgb.shape and image.min() >= 0 and image.max() <= 1
        per_channel = image.flatten(2)
        assert torch.allclose(per_channel.amax(2), torch.ones(2, 3)), "each channel reaches 1"
    for colour in (msrcr_joint, first_retinex):
        joint = colour(rgb)
        assert joint.shape == rgb.shape and joint.min() >= 0 and joint.max() <= 1
        assert torch.allclose(joint.flatten(1).amax(1), torch.ones(2)), "each image reaches 1"
        assert not torch.allclose(joint.flatten(2).amax(2), torch.ones(2, 3)), "not each channel"
    short, ours = short_kernel_retinex(rgb), retinex(rgb)
    assert short.shape == rgb.shape and 0 < (short - ours).abs().max() < 0.5
    assert torch.equal(no_retinex(rgb), rgb)
    grey = mean_grey(torch.tensor([0.3, 0.6, 0.0]).view(1, 3, 1, 1))
    assert float(grey) == pytest.approx(0.3 * 255)


def test_matlab_randperm_after_rng0_matches_matlabs_documentation():
    # MATLAB's randperm page, after rng default (= rng(0)): randperm(6) gives 6 3 5 1 2 4, and
    # randperm(8) from the same state 6 3 7 8 5 1 2 4.
    assert (matlab_randperms(6, 1)[0] + 1).tolist() == [6, 3, 5, 1, 2, 4]
    assert (matlab_randperms(8, 1)[0] + 1).tolist() == [6, 3, 7, 8, 5, 1, 2, 4]
    first, second = matlab_randperms(8, 2)
    assert sorted(second.tolist()) == list(range(8)) and second.tolist() != first.tolist()


def test_liaos_splits_are_the_halves_of_each_permutation_and_the_loader_uses_them(
    tmp_path, monkeypatch
):
    ids = [0, 2, 5, 7, 9, 11, 13, 20]
    splits = liao_viper_splits(ids, folds=3)
    for split, perm in zip(splits, matlab_randperms(8, 3), strict=True):
        assert split.train == tuple(sorted(ids[i] for i in perm[:4]))
        assert split.test == tuple(sorted(ids[i] for i in perm[4:]))
    monkeypatch.setenv("REID_SPLITS_DIR", str(tmp_path / "splits"))
    root = tmp_path / "peta-reid" / "VIPeR"
    write_fake_viper(root, num_ids=20)
    folder = write_liao_splits(str(root), tmp_path)
    data = build_dataset("viper", str(root), split_index=1, splits_dir=folder)
    assert sorted({r.pid for r in data.query}) == list(liao_viper_splits(range(20))[1].test)
