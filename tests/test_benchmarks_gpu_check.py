"""The GPU check skips without a GPU, and its code runs end to end on the CPU at a small size."""

from __future__ import annotations

import json

import pytest
import torch

from benchmarks.gpu_check import main
from benchmarks.train_speed import PLAIN, ROWS


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is here: the check would run")
def test_without_a_gpu_it_says_why_it_skips(capsys):
    assert main([]) == 0
    assert "gpu_check: skipped: no CUDA device here" in capsys.readouterr().out


@pytest.mark.slow
def test_on_the_cpu_at_a_small_size_it_reports_every_model(tmp_path, capsys):
    small = ["--allow-cpu", "--height", "128", "--width", "64", "--identities", "2"]
    small += ["--instances", "2", "--steps", "1", "--rounds", "1", "--sync-steps", "1"]
    small += ["--synthetic-preset", "tiny", "--epochs", "1"]
    small += ["--num-workers", "0"]
    assert main([*small, "--workdir", str(tmp_path / "work"), "--out", str(tmp_path)]) == 0
    (report,) = tmp_path.glob("gpu_check-*.md")
    text = report.read_text()
    plain = PLAIN.format(backbone="resnet50")
    for name in (*ROWS, plain):
        assert f"| {name} |" in text
    assert "The colab preset on its synthetic set" in text and "| colab | 1 |" in text
    (record,) = tmp_path.glob("gpu_check-*.json")
    data = json.loads(record.read_text())
    assert data["device"] == "cpu" and data["profile_epochs"]["epochs"] == 1
    assert data["profile_epochs"]["s/epoch"] > 0 and {m["model"] for m in data["models"]} >= {plain}
