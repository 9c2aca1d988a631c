"""The joint-fit diagnostic: its retrieval of a set's own images follows the test protocol."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from benchmarks.joint_fit import main, retrieval
from reid_lib.data.records import Record
from reid_lib.engine.config import load_config


class _MeanColour(nn.Module):
    """The image's mean colour: ``[N, 3, H, W] -> [N, 3]``, not L2-normalised (grey levels stay
    apart: their distance is proportional to the difference of their levels)."""

    l2_normalise = False

    def forward(self, images):
        return images.mean(dim=(2, 3))


def _records(tmp_path, colours):
    """One solid image per (person, camera) with the given colour."""
    records = []
    for (pid, camid), colour in colours.items():
        path = tmp_path / f"{pid}_{camid}.png"
        Image.fromarray(np.full((16, 8, 3), colour, dtype=np.uint8)).save(path)
        records.append(Record(path, pid, camid))
    return records


def test_each_image_finds_its_person_in_the_other_camera(tmp_path):
    """Person p looks alike in both cameras: every query's one match (the other camera's image)
    is at distance 0, so mAP and Rank-1 are 100; its own image (same camera) is left out."""
    colours = {(p, c): (40 * p + 20, 200 - 40 * p, 90) for p in range(4) for c in (0, 1)}
    cfg = load_config("smoke", ["eval.flip=false"])
    assert retrieval(_MeanColour(), cfg, _records(tmp_path, colours)) == (100.0, 100.0)


def test_a_hand_ranked_case(tmp_path):
    """Grey levels (person, camera): p0 0 and 100, p1 90 and 10, p2 220 and 220. Ranked by the
    difference of levels, with the same person's same-camera image left out:
    (0,0) finds its match 3rd (after 10, 90); (0,1) 3rd (after 90, 10); (1,0) 2nd (after 100);
    (1,1) 2nd (after 0); p2's two images find each other 1st."""
    levels = {(0, 0): 0, (0, 1): 100, (1, 0): 90, (1, 1): 10, (2, 0): 220, (2, 1): 220}
    cfg = load_config("smoke", ["eval.flip=false"])
    records = _records(tmp_path, {key: (level,) * 3 for key, level in levels.items()})
    mean_ap, rank1 = retrieval(_MeanColour(), cfg, records)
    assert rank1 == pytest.approx(100 * 2 / 6)
    assert mean_ap == pytest.approx(100 * (1 / 3 + 1 / 3 + 1 / 2 + 1 / 2 + 1 + 1) / 6)


def test_missing_checkpoints_are_named_and_skipped(tmp_path, capsys):
    main(["--runs-dir", str(tmp_path), "--data-root", str(tmp_path), "--sets", "viper"])
    out = capsys.readouterr().out
    assert out.count("skip ") == 6 and "cpu/viper/baseline-split0-seed1/last.pt" in out


def test_an_unfinished_run_is_skipped_with_the_epochs_it_reached(tmp_path, capsys):
    """A last.pt written mid-schedule (the run still training, or stopped) is not evaluated."""
    run = tmp_path / "cpu" / "viper" / "baseline-split0-seed1"
    run.mkdir(parents=True)
    config = load_config("cpu").to_dict()
    state = {"model": {}, "config": config, "num_classes": 2, "epoch": 3, "wall_time_s": 1.0}
    torch.save(state, run / "last.pt")
    main(["--runs-dir", str(tmp_path), "--data-root", str(tmp_path), "--sets", "viper"])
    out = capsys.readouterr().out
    assert f"skip {run / 'last.pt'}: trained 3 of 12 epochs (still training, or stopped)" in out
    assert out.count("skip ") == 6, "skipped, not evaluated"


def test_the_joint_run_can_be_another_row(tmp_path, capsys):
    """``--joint-row`` pairs the set's own run of ``--row`` with the joint run of another row."""
    rows = ["--row", "baseline-24-epochs", "--joint-row", "baseline-24-epochs-set-softmax"]
    main(["--runs-dir", str(tmp_path), "--data-root", str(tmp_path), "--sets", "viper", *rows])
    out = capsys.readouterr().out
    assert "cpu/viper/baseline-24-epochs-split0-seed1/last.pt: not there" in out
    assert "cpu/joint/baseline-24-epochs-set-softmax-split0-seed1/last.pt: not there" in out
