"""Trainer: resume equivalence, NaN stop, Ctrl-C, evaluation, results and logs.

A tiny stand-in model (conv, BatchNorm, dropout, linear) keeps these tests fast; the real model
runs through the CLI test. The data augmentation, the shuffling and the dropout all draw from the
global generators, so the resume test checks that every RNG state is saved and restored.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from reid_lib.data.records import Record, ReIDDataset
from reid_lib.engine.checkpoint import CheckpointError, load_checkpoint
from reid_lib.engine.config import apply_overrides, load_config
from reid_lib.engine.experiment import build_model_from_config
from reid_lib.engine.machine import numerics_fingerprint
from reid_lib.engine.reproducibility import seed_everything
from reid_lib.engine.results import validate_results
from reid_lib.engine.trainer import NonFiniteLossError, Trainer
from reid_lib.losses import ReIDLoss

NUM_CLASSES = 4


@dataclass
class _Loss:
    total: torch.Tensor
    terms: dict[str, torch.Tensor]


class _TinyNet(nn.Module):
    def __init__(self, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1)
        )
        self.drop = nn.Dropout(0.3)
        self.fc = nn.Linear(4, num_classes)

    def forward(self, x):
        return self.fc(self.drop(self.body(x).flatten(1)))


def _loss(logits, targets):
    ce = nn.functional.cross_entropy(logits, targets)
    return _Loss(total=ce, terms={"ce": ce})


class _Images(Dataset):
    def __init__(self, n: int = 16, size: tuple[int, int] = (8, 4)) -> None:
        gen = torch.Generator().manual_seed(0)
        self.images = torch.randn(n, 3, *size, generator=gen)
        self.pids = torch.arange(n) % NUM_CLASSES

    def __len__(self) -> int:
        return len(self.pids)

    def __getitem__(self, i):
        image = self.images[i]
        if torch.rand(()) < 0.5:
            image = image.flip(-1)
        return {"images": image + 0.1 * torch.randn_like(image), "pids": self.pids[i]}


def _cfg(tmp_path, *overrides):
    return apply_overrides(
        load_config("smoke"),
        [
            f"run.output_dir={tmp_path / 'runs'}",
            f"run.results_dir={tmp_path / 'results'}",
            "run.name=t",
            "schedule.epochs=2",
            "schedule.warmup_epochs=1",
            "optim.lr=0.01",
            *overrides,
        ],
    )


def _trainer(cfg, *, loss_fn=_loss, loader=None, **kwargs):
    seed_everything(cfg.run.seed, deterministic=cfg.run.deterministic)
    loader = loader or DataLoader(_Images(), batch_size=4, shuffle=True)
    return Trainer(
        cfg,
        _TinyNet(),
        loss_fn,
        loader,
        num_classes=NUM_CLASSES,
        device=torch.device("cpu"),
        **kwargs,
    )


def test_resume_after_an_epoch_ends_with_identical_weights(tmp_path):
    straight = _trainer(_cfg(tmp_path / "a"))
    initial = {k: v.clone() for k, v in straight.model.state_dict().items()}
    assert straight.fit().status == "finished"

    first = _trainer(_cfg(tmp_path / "b", "schedule.epochs=1"))
    first.fit()
    resumed = _trainer(_cfg(tmp_path / "b"))
    torch.manual_seed(1234)  # the resume must restore the generators, whatever they hold now
    resumed.resume(first.run_dir / "last.pt")
    assert resumed.epoch == 1
    assert resumed.fit().epochs_completed == 2

    final = straight.model.state_dict()
    assert not torch.equal(final["fc.weight"], initial["fc.weight"])
    for key, value in resumed.model.state_dict().items():
        assert torch.equal(value, final[key]), key
    assert resumed.optimizer.param_groups[0]["lr"] == straight.optimizer.param_groups[0]["lr"]


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    calls = {"n": 0}

    def loss_going_nan(logits, targets):
        calls["n"] += 1
        out = _loss(logits, targets)
        if calls["n"] > 5:  # epoch 1 has 4 steps; epoch 2 breaks
            out.total = out.total * float("nan")
        return out

    trainer = _trainer(_cfg(tmp_path), loss_fn=loss_going_nan)
    with pytest.raises(NonFiniteLossError, match=r"epoch 2, step 6.*last good checkpoint"):
        trainer.fit()
    state = load_checkpoint(trainer.run_dir / "last.pt")
    assert state["epoch"] == 1 and not state["interrupted"]


class _InterruptingLoader:
    """Iterates a loader and raises KeyboardInterrupt at one global batch, as Ctrl-C would."""

    def __init__(self, loader, at: int) -> None:
        self.loader, self.at, self.seen = loader, at, 0
        self.sampler = loader.sampler

    def __iter__(self):
        for batch in self.loader:
            self.seen += 1
            if self.seen == self.at:
                raise KeyboardInterrupt
            yield batch


def test_ctrl_c_saves_a_checkpoint_and_returns(tmp_path):
    loader = _InterruptingLoader(DataLoader(_Images(), batch_size=4, shuffle=True), at=6)
    trainer = _trainer(_cfg(tmp_path), loader=loader)
    result = trainer.fit()
    assert result.status == "interrupted" and result.epochs_completed == 1
    state = load_checkpoint(trainer.run_dir / "last.pt")
    assert state["interrupted"] and state["epoch"] == 1 and state["global_step"] == 5
    assert state["step_in_epoch"] == 1
    assert torch.equal(state["model"]["fc.weight"], trainer.model.state_dict()["fc.weight"])


def test_resume_with_another_model_config_lists_the_keys(tmp_path):
    trainer = _trainer(_cfg(tmp_path, "schedule.epochs=1"))
    trainer.fit()
    other = _trainer(_cfg(tmp_path, "model.num_parts=2", "model.tsa=false"))
    with pytest.raises(CheckpointError, match=r"model\.num_parts: checkpoint 3, config 2"):
        other.resume(trainer.run_dir / "last.pt")


def _toy_dataset(tmp_path):
    train = [Record(tmp_path / f"t{i}.jpg", pid=i % NUM_CLASSES, camid=0) for i in range(8)]
    query = [Record(tmp_path / "q.jpg", pid=1, camid=0)]
    gallery = [Record(tmp_path / "g.jpg", pid=1, camid=1)]
    return ReIDDataset("synthetic", tmp_path, train, query, gallery)


def test_evaluation_writes_results_logs_and_best(tmp_path):
    scores = iter([0.5, 0.3])
    evaluated_at = []

    def evaluate_fn(model):
        evaluated_at.append(trainer.epoch)
        value = next(scores)
        entry = {
            "rank1": value,
            "rank5": value,
            "rank10": 1.0,
            "rank20": 1.0,
            "mAP": value,
            "mINP": value,
            "num_valid_queries": 1,
        }
        return {"single_query": entry}

    cfg = _cfg(tmp_path, "schedule.epochs=3", "eval.every=2")
    trainer = _trainer(cfg, evaluate_fn=evaluate_fn, dataset=_toy_dataset(tmp_path))
    result = trainer.fit()
    assert evaluated_at == [2, 3]
    assert result.best == {"metric": "mAP", "value": 0.5, "epoch": 2}
    assert load_checkpoint(trainer.run_dir / "best.pt")["epoch"] == 2
    assert load_checkpoint(trainer.run_dir / "last.pt")["epoch"] == 3
    data = json.loads(result.results_path.read_text())
    validate_results(data)
    assert result.results_path == tmp_path / "results" / "smoke" / "synthetic" / "t.json"
    assert data["epoch"] == 3 and data["metrics"]["single_query"]["mAP"] == 0.3
    assert data["provenance"]["config"] == cfg.to_dict()
    assert data["provenance"]["numerics"] == numerics_fingerprint(), "the machine that trained"

    lines = [
        json.loads(line) for line in (trainer.run_dir / "metrics.jsonl").read_text().splitlines()
    ]
    epochs = [line for line in lines if line["event"] == "epoch"]
    assert [e["lr"] for e in epochs] == pytest.approx([0.001, 0.01, 0.01])
    assert all(e["images_per_s"] > 0 and "ce" in e for e in epochs)
    assert [line["epoch"] for line in lines if line["event"] == "eval"] == [2, 3]
    assert (trainer.run_dir / "config.yaml").is_file()


@pytest.mark.parametrize(
    ("earlier", "recorded"),
    [
        (["0123456789ab"], "0123456789ab+{here}"),  # resumed on another machine
        ("here", "{here}"),  # resumed on this one: named once
        (None, None),  # a checkpoint from before checkpoints recorded it: unknown
    ],
)
def test_the_results_name_every_machine_that_trained_the_model(tmp_path, earlier, recorded):
    here = numerics_fingerprint()
    first = _trainer(_cfg(tmp_path, "schedule.epochs=1"))
    first.fit()
    path = first.run_dir / "last.pt"
    state = load_checkpoint(path)
    assert state["numerics"] == [here]
    if earlier is None:
        del state["numerics"]
    elif earlier != "here":
        state["numerics"] = earlier
    torch.save(state, path)

    def evaluate_fn(model):
        entry = dict.fromkeys(("rank1", "rank5", "rank10", "rank20", "mAP", "mINP"), 0.5)
        return {"single_query": {**entry, "num_valid_queries": 1}}

    resumed = _trainer(_cfg(tmp_path), evaluate_fn=evaluate_fn, dataset=_toy_dataset(tmp_path))
    resumed.resume(path)
    data = json.loads(resumed.fit().results_path.read_text())
    validate_results(data)
    expected = None if recorded is None else recorded.format(here=here)
    assert data["provenance"]["numerics"] == expected


def test_tensorboard_without_the_package_is_a_clear_error(tmp_path):
    if importlib.util.find_spec("tensorboard") is not None:
        pytest.skip("tensorboard is installed: the missing-package error cannot happen")
    with pytest.raises(ImportError, match=r"run\.tensorboard"):
        _trainer(_cfg(tmp_path, "run.tensorboard=true"))


def test_ctrl_c_mid_epoch_then_resume_equals_an_uninterrupted_run(tmp_path):
    """The paper's model (ResNet-18, 32x16), the P x K sampler, Ctrl-C in the middle of an epoch."""
    PKSampler = pytest.importorskip(
        "reid_lib.data.sampler", reason="needs the data pipeline"
    ).PKSampler

    data = _Images(16, size=(32, 16))

    def run(cfg, *, interrupt_at=None, resume=None):
        seed_everything(cfg.run.seed, deterministic=True)
        sampler = PKSampler(data.pids.tolist(), 2, 2, seed=0)
        loader = DataLoader(data, batch_size=sampler.batch_size, sampler=sampler)
        if interrupt_at:
            loader = _InterruptingLoader(loader, at=interrupt_at)
        trainer = Trainer(
            cfg,
            build_model_from_config(cfg, NUM_CLASSES),
            ReIDLoss(),
            loader,
            num_classes=NUM_CLASSES,
            device=torch.device("cpu"),
        )
        if resume:
            trainer.resume(resume)
        return trainer, trainer.fit()

    # 32-pixel images give a 2-row stage4 map: two parts.
    cfg = _cfg(tmp_path, "schedule.epochs=1", "model.num_parts=2")
    straight, _ = run(cfg)
    steps = straight.global_step
    cut = _cfg(tmp_path / "cut", "schedule.epochs=1", "model.num_parts=2")
    stopped, result = run(cut, interrupt_at=3)
    assert result.status == "interrupted" and stopped.step_in_epoch == 2 < steps
    resumed, result = run(cut, resume=stopped.run_dir / "last.pt")
    assert result.status == "finished" and resumed.global_step == steps
    for key, value in resumed.model.state_dict().items():
        assert torch.equal(value, straight.model.state_dict()[key]), key


class _SigintLoader(_InterruptingLoader):
    """Sends this process a real SIGINT (what Ctrl-C does) while handing out one batch."""

    def __iter__(self):
        for batch in self.loader:
            self.seen += 1
            if self.seen == self.at:
                os.kill(os.getpid(), signal.SIGINT)
            yield batch


def test_real_sigint_finishes_the_step_then_saves(tmp_path):
    loader = _SigintLoader(DataLoader(_Images(), batch_size=4, shuffle=True), at=2)
    trainer = _trainer(_cfg(tmp_path), loader=loader)
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when the suite runs in the background
    result = trainer.fit()
    assert result.status == "interrupted"
    state = load_checkpoint(trainer.run_dir / "last.pt")
    assert state["interrupted"] and state["global_step"] == 2 and state["step_in_epoch"] == 2
    assert signal.getsignal(signal.SIGINT) is before, "the previous handler is restored"


def test_run_compile_compiles_the_training_passes_only(tmp_path):
    """``run.compile=true`` wraps the module the steps call; checkpoints and evaluation keep the
    module itself, so its state dict has the plain names (no ``_orig_mod.`` prefix)."""
    plain = _trainer(_cfg(tmp_path / "plain"))
    assert plain.net is plain.model
    compiled = _trainer(_cfg(tmp_path / "compiled", "run.compile=true"))
    assert isinstance(compiled.net, torch._dynamo.eval_frame.OptimizedModule)
    assert compiled.net._orig_mod is compiled.model
    assert list(compiled.model.state_dict()) == list(plain.model.state_dict())


def _send_two_sigints(*_: object) -> None:
    for _ in range(2):
        os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize("where", ["forward, after a BatchNorm", "backward", "optimizer step"])
@pytest.mark.parametrize("step", [2, 3], ids=["mid-epoch", "the epoch's last step"])
def test_two_sigints_inside_a_step_then_resume_equals_an_uninterrupted_run(tmp_path, where, step):
    """Two Ctrl-C in the middle of a step: the step completes, the checkpoint records it whole,
    and the resumed run ends with the uninterrupted run's weights and BatchNorm buffers."""
    PKSampler = pytest.importorskip(
        "reid_lib.data.sampler", reason="needs the data pipeline"
    ).PKSampler
    data = _Images()

    def run(cfg, *, interrupt_step=None, resume=None):
        sampler = PKSampler(data.pids.tolist(), 2, 2, seed=0)
        loader = DataLoader(data, batch_size=sampler.batch_size, sampler=sampler)
        trainer = _trainer(cfg, loader=loader)
        if interrupt_step is not None:
            calls = {"n": 0}

            def at_the_step(*_: object) -> None:
                calls["n"] += 1
                if calls["n"] == interrupt_step:
                    _send_two_sigints()

            if where == "backward":
                trainer.model.fc.register_full_backward_hook(at_the_step)
            elif where == "optimizer step":
                trainer.optimizer.register_step_pre_hook(at_the_step)
            else:
                trainer.model.body[1].register_forward_hook(at_the_step)
        if resume:
            trainer.resume(resume)
        return trainer, trainer.fit()

    first_epoch = PKSampler(data.pids.tolist(), 2, 2, seed=0).global_batches()
    assert (step == len(first_epoch)) is (step == 3)
    straight, result = run(_cfg(tmp_path / "straight", "run.deterministic=true"))
    steps = straight.global_step
    assert result.status == "finished" and steps > 3
    cut = _cfg(tmp_path / "cut", "run.deterministic=true")
    before = signal.getsignal(signal.SIGINT)
    stopped, result = run(cut, interrupt_step=step)
    assert result.status == "interrupted"
    assert signal.getsignal(signal.SIGINT) is before, "the previous handler is restored"
    state = load_checkpoint(stopped.run_dir / "last.pt")
    assert state["interrupted"] and state["global_step"] == state["step_in_epoch"] == step
    resumed, result = run(cut, resume=stopped.run_dir / "last.pt")
    assert result.status == "finished" and resumed.global_step == steps
    for key, value in resumed.model.state_dict().items():
        assert torch.equal(value, straight.model.state_dict()[key]), key


def test_the_loss_is_read_once_per_logging_interval(tmp_path, monkeypatch):
    """Reading a tensor's value waits for a GPU: the steps read nothing, each log reads once.

    Counted: every value read that the library's code makes (the data and torch's optimiser
    read CPU tensors of their own). The trainer's label check reads the labels on the CPU before
    they move (no device wait), so it is left out of the count.
    """
    import reid_lib.engine.trainer as trainer_module

    library = str(Path(trainer_module.__file__).parents[1])
    reads = []
    for name in ("item", "tolist", "__bool__", "__float__", "__int__", "numpy"):
        original = getattr(torch.Tensor, name)

        def counting(self, *args, _original=original, _name=name, **kwargs):
            if sys._getframe(1).f_code.co_filename.startswith(library):
                reads.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counting)
    monkeypatch.setattr(trainer_module, "check_labels", lambda targets, num_classes: None)
    # 16 images, batch 4: 4 steps an epoch; logs at steps 3 and 6, and each epoch's end reads the
    # steps left (4 and 7-8): 4 reads for 8 steps.
    trainer = _trainer(_cfg(tmp_path, "run.log_every=3"))
    assert trainer.fit().status == "finished"
    assert trainer.global_step == 8
    assert reads == ["tolist"] * 4


def test_a_failing_evaluation_keeps_the_trained_epoch(tmp_path):
    def broken_query_image(model):
        raise OSError("query/0001_c1.jpg: cannot identify image file")

    trainer = _trainer(
        _cfg(tmp_path, "schedule.epochs=1", "eval.every=1"), evaluate_fn=broken_query_image
    )
    with pytest.raises(OSError, match="cannot identify image file"):
        trainer.fit()
    state = load_checkpoint(trainer.run_dir / "last.pt")
    assert state["epoch"] == 1 and state["global_step"] == 4 and not state["interrupted"]
