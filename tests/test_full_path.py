"""The ``full`` preset's path on every commit: ResNet-50 at 256x128 with every module, random
initialisation, bf16 autocast, on a tiny folder in the Market-1501 layout (CPU only here)."""

from __future__ import annotations

import json

import pytest
import torch

from reid_lib.data.synthetic import PRESETS, generate_synthetic
from reid_lib.engine import load_config, train, validate_results
from reid_lib.engine.trainer import amp_dtype


@pytest.mark.slow
def test_the_full_preset_trains_and_evaluates_under_bf16_autocast(tmp_path):
    root = tmp_path / "Market-1501"
    generate_synthetic(root, PRESETS["tiny"], preset="tiny", seed=0)
    cfg = load_config(
        "full",
        [
            "model.pretrained=null",
            f"data.root={root}",
            "data.num_workers=0",
            "data.test_batch_size=32",
            "sampler.num_identities=4",  # 4 x 4 images a step, to keep CI's CPU time small
            "schedule.epochs=1",
            "schedule.warmup_epochs=1",
            "run.device=cpu",
            "run.amp=bf16",
            "run.log_every=1",
            "run.progress=false",
            f"run.output_dir={tmp_path / 'runs'}",
            f"run.results_dir={tmp_path / 'results'}",
        ],
    )
    assert (cfg.model.backbone, cfg.data.height, cfg.data.width) == ("resnet50", 256, 128)
    assert amp_dtype(cfg.run.amp, torch.device("cpu")) == torch.bfloat16
    result = train(cfg)
    assert result.status == "finished"
    steps = [
        json.loads(line)
        for line in (cfg.run_dir() / "metrics.jsonl").read_text().splitlines()
        if '"train_step"' in line
    ]
    assert len(steps) >= 2 and all(step["loss"] > 0 for step in steps)
    data = json.loads(result.results_path.read_text())
    validate_results(data)
    assert data["dataset"]["name"] == "market1501"


def test_fp16_is_refused_on_the_cpu():
    with pytest.raises(ValueError, match=r"run\.amp=fp16 needs a GPU"):
        amp_dtype("fp16", torch.device("cpu"))
    assert amp_dtype("auto", torch.device("cpu")) is None


@pytest.mark.parametrize(
    ("capability", "dtype"), [((7, 5), torch.float16), ((8, 0), torch.bfloat16)]
)
def test_the_colab_preset_runs_fp16_on_a_t4_and_bf16_from_ampere(monkeypatch, capability, dtype):
    cfg = load_config("colab")
    assert (cfg.model.backbone, cfg.model.pretrained, cfg.model.num_parts) == (
        "resnet50",
        "imagenet",
        6,
    )
    assert cfg.run.amp == "auto"
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    assert amp_dtype(cfg.run.amp, torch.device("cuda", 0)) == dtype
