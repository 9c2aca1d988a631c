"""Checkpoints: atomic writes, safe loading (a malicious pickle is refused), compatibility check."""

from __future__ import annotations

import os
import pickle
import random

import numpy as np
import pytest
import torch

from reid_lib.engine.checkpoint import (
    CheckpointError,
    check_compatible,
    check_trained_under,
    config_mismatches,
    link_checkpoint,
    load_checkpoint,
    load_training_checkpoint,
    save_checkpoint,
)
from reid_lib.engine.config import Config, apply_overrides, load_config
from reid_lib.engine.experiment import build_model_from_config, trained_model
from reid_lib.engine.reproducibility import rng_state, set_rng_state
from tests.unsafe_pickle import RunsCode


def test_malicious_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"model": {}, "payload": RunsCode(marker)}, path)
    with pytest.raises(CheckpointError, match=r"evil\.pt was refused"):
        load_checkpoint(path)
    assert not marker.exists()


def test_a_truncated_or_foreign_checkpoint_is_named_not_torch_internals(tmp_path):
    whole = save_checkpoint({"model": {"w": torch.ones(64)}}, tmp_path / "whole.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint")
    for path in (truncated, text):
        with pytest.raises(CheckpointError, match=rf"checkpoint {path} cannot be read: not a"):
            load_checkpoint(path)


def test_eval_and_resume_need_a_training_checkpoint_not_a_state_dict(tmp_path):
    path = save_checkpoint({"model": {"w": torch.ones(2)}, "epoch": 3}, tmp_path / "weights.pt")
    with pytest.raises(
        CheckpointError,
        match=r"weights\.pt is not a training checkpoint .* lacks \['config', 'num_classes', ",
    ):
        load_training_checkpoint(path)
    assert load_checkpoint(path)["epoch"] == 3


def test_round_trip_with_every_state(tmp_path):
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    state = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "rng": rng_state(),
        "config": Config().to_dict(),
        "epoch": 3,
    }
    path = save_checkpoint(state, tmp_path / "sub" / "last.pt")
    loaded = load_checkpoint(path)
    assert loaded["epoch"] == 3 and loaded["config"] == Config().to_dict()
    for key, value in model.state_dict().items():
        assert torch.equal(loaded["model"][key], value)
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"], "no temporary file left"


def test_rng_state_restores_every_generator():
    saved = rng_state()
    draws = (random.random(), np.random.rand(), torch.rand(1).item())
    set_rng_state(saved)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == draws


def test_failed_write_keeps_previous_file(tmp_path):
    path = save_checkpoint({"model": {"w": torch.ones(2)}}, tmp_path / "last.pt")
    with pytest.raises((AttributeError, TypeError, pickle.PicklingError)):
        save_checkpoint({"model": {"w": torch.zeros(2)}, "bad": lambda: 0}, path)
    assert torch.equal(load_checkpoint(path)["model"]["w"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_linked_best_keeps_its_bytes_when_last_is_rewritten(tmp_path):
    last = save_checkpoint({"model": {"w": torch.ones(2)}}, tmp_path / "last.pt")
    best = link_checkpoint(last, tmp_path / "best.pt")
    assert os.stat(best).st_ino == os.stat(last).st_ino
    save_checkpoint({"model": {"w": torch.zeros(2)}}, last)
    assert torch.equal(load_checkpoint(best)["model"]["w"], torch.ones(2))
    assert torch.equal(load_checkpoint(last)["model"]["w"], torch.zeros(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "last.pt"]


def test_link_falls_back_to_a_copy(tmp_path, monkeypatch):
    last = save_checkpoint({"model": {"w": torch.ones(2)}}, tmp_path / "last.pt")
    link_checkpoint(last, tmp_path / "best.pt")

    def refuse(*args):
        raise OSError("hard links not supported")

    monkeypatch.setattr(os, "link", refuse)
    save_checkpoint({"model": {"w": torch.full((2,), 3.0)}}, last)
    best = link_checkpoint(last, tmp_path / "best.pt")
    assert os.stat(best).st_ino != os.stat(last).st_ino
    assert torch.equal(load_checkpoint(best)["model"]["w"], torch.full((2,), 3.0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "last.pt"]


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nothing.pt")


def test_incompatible_config_lists_every_mismatched_key():
    saved = {"config": Config().to_dict(), "num_classes": 10}
    current = apply_overrides(Config(), ["model.backbone=resnet18", "model.num_parts=4"])
    with pytest.raises(CheckpointError) as info:
        check_compatible(saved, current.to_dict(), 12, path="x.pt")
    message = str(info.value)
    assert "model.backbone: checkpoint 'resnet50', config 'resnet18'" in message
    assert "model.num_parts: checkpoint 6, config 4" in message
    assert "num_classes: checkpoint 10, dataset 12" in message
    assert "model.tsa" not in message


def test_a_key_added_after_a_checkpoint_was_written_holds_its_default_there():
    saved = Config().to_dict()
    del saved["sampler"]["one_set_per_batch"]  # written before the key existed
    assert config_mismatches(saved, Config().to_dict(), sections=("sampler",)) == []
    joint = apply_overrides(Config(), ["data.dataset=joint", "sampler.one_set_per_batch=true"])
    assert config_mismatches(saved, joint.to_dict(), sections=("sampler",)) == [
        "sampler.one_set_per_batch: checkpoint False, config True"
    ]


def test_training_only_changes_are_compatible():
    saved = {"config": Config().to_dict(), "num_classes": 10}
    current = apply_overrides(Config(), ["optim.lr=0.1", "schedule.epochs=3"])
    check_compatible(saved, current.to_dict(), 10, path="x.pt")


def test_a_checkpoint_of_an_imagenet_run_reloads_offline(tmp_path, monkeypatch):
    """Rebuilding a trained model never asks for the ImageNet weights it started from."""

    def offline(*args, **kwargs):
        raise OSError("no network here")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-cache"))
    imagenet = load_config("smoke", ["model.pretrained=imagenet"])
    with pytest.raises(RuntimeError, match="cannot be had"):
        build_model_from_config(imagenet, 5)
    weights = build_model_from_config(load_config("smoke"), 5).state_dict()
    state = {"config": imagenet.to_dict(), "num_classes": 5, "model": weights}
    model = trained_model(state)
    for key, value in model.state_dict().items():
        assert torch.equal(value, weights[key]), key


def test_a_finished_run_is_refused_under_a_config_that_trains_something_else(tmp_path):
    cfg = apply_overrides(Config(), ["data.root=/data/a"])
    last = save_checkpoint({"model": {}, "config": cfg.to_dict()}, tmp_path / "last.pt")
    check_trained_under(last, cfg.to_dict(), remedy="fix it")
    evaluated_elsewhere = apply_overrides(cfg, ["eval.flip=false", "run.name=other"])
    check_trained_under(last, evaluated_elsewhere.to_dict(), remedy="fix it")
    moved = apply_overrides(cfg, ["data.root=/data/b"])
    check_trained_under(last, moved.to_dict(), remedy="fix it", ignore=("data.root",))
    with pytest.raises(CheckpointError) as info:
        check_trained_under(last, moved.to_dict(), remedy="fix it")
    assert "data.root: checkpoint '/data/a', config '/data/b'" in str(info.value)
    other = apply_overrides(moved, ["optim.lr=0.5"])
    with pytest.raises(CheckpointError) as info:
        check_trained_under(last, other.to_dict(), remedy="fix it", ignore=("data.root",))
    message = str(info.value)
    assert message.startswith(f"{last} was trained under another config; fix it.")
    assert "optim.lr: checkpoint" in message and "data.root" not in message
