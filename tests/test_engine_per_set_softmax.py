"""A joint run with a per-set softmax trains end to end, and its loss is another than the shared
softmax's on the same batches."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from reid_lib.engine import load_config
from reid_lib.engine.experiment import train
from reid_lib.engine.metrics_log import METRICS_LOG
from tests.test_studies import write_fake_viper


def write_fake_caviar(folder, num_ids=6, per_id=20):
    """A CAVIAR4REID-named folder of random images (``<id>_<k>.jpg``)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for pid in range(1, num_ids + 1):
        for k in range(1, per_id + 1):
            pixels = rng.integers(0, 256, size=(128, 64, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{pid:04d}_{k:03d}.jpg")


def first_ce(run_dir):
    lines = [json.loads(line) for line in (run_dir / METRICS_LOG).read_text().splitlines()]
    return next(line for line in lines if "ce_stage4" in line)["ce_stage4"]


def test_a_joint_run_trains_with_a_per_set_softmax(tmp_path, monkeypatch):
    monkeypatch.setenv("REID_SPLITS_DIR", str(tmp_path / "splits"))
    write_fake_viper(tmp_path / "data" / "peta-reid" / "VIPeR")
    write_fake_caviar(tmp_path / "data" / "peta-reid" / "CAVIAR4REID")
    common = [
        "data.dataset=joint",
        f"data.root={tmp_path / 'data'}",
        "data.joint_sets=[viper, caviar4reid]",
        "model.pretrained=null",
        "schedule.epochs=1",
        "run.log_every=1",
        "run.progress=false",
        f"run.output_dir={tmp_path / 'runs'}",
        f"run.results_dir={tmp_path / 'results'}",
    ]
    shared = train(load_config("smoke", [*common, "run.name=shared"]))
    own = train(load_config("smoke", [*common, "run.name=own", "loss.per_set_softmax=true"]))
    assert shared.epochs_completed == own.epochs_completed == 1
    runs = tmp_path / "runs" / "smoke" / "joint"
    assert first_ce(runs / "own") < first_ce(runs / "shared"), "fewer classes to spread over"
