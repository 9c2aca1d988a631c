"""The chapters' short run: its config, with or without a study row."""

from __future__ import annotations

import pytest

from reid_lib.book.chapter import start
from reid_lib.book.training import short_run_config
from reid_lib.engine.config import apply_overrides
from tools.sweep import load_rows


@pytest.fixture
def ch(tmp_path):
    return start("x", profile="smoke", device="cpu", results_dir=str(tmp_path))


def test_without_a_row_the_run_is_the_chapters_profile_shared_with_the_full_row(ch):
    config = short_run_config(ch)
    assert config.run.name == "book-full" and config.run.row == "full"
    assert config.model == ch.config.model and config.schedule == ch.config.schedule
    assert short_run_config(ch, "full") == config, "one run, not two of the same model"


def test_a_row_applies_its_overrides_and_names_the_run_after_it(ch):
    config = short_run_config(ch, "baseline")
    assert config.run.name == "book-baseline"
    assert config.run_dir().name == "book-baseline"
    assert (config.model.non_local, config.model.msg, config.model.tsa) == (False, False, False)
    assert config.model.wdp is False
    assert config.run.row == "baseline"
    expected = apply_overrides(short_run_config(ch), load_rows()["baseline"])
    assert config.model == expected.model


def test_an_unknown_row_is_named_with_the_defined_ones(ch):
    with pytest.raises(ValueError, match=r"row='nope' is not an ablation row; expected one of \["):
        short_run_config(ch, "nope")


@pytest.fixture
def calls(monkeypatch):
    import reid_lib.book.training as training

    made = []
    monkeypatch.setattr(training, "train", lambda config, **kwargs: made.append(kwargs))
    return made


def leave_run(config, epoch: int) -> None:
    """A run folder of ``config`` as training leaves it after ``epoch`` epochs."""
    import torch

    from reid_lib.engine.config import save_yaml

    config.run_dir().mkdir(parents=True)
    save_yaml(config, config.run_dir() / "config.yaml")
    torch.save({"epoch": epoch, "model": {}}, config.run_dir() / "last.pt")


def test_the_runs_go_to_the_named_folder(tmp_path):
    ch = start("x", profile="smoke", results_dir=str(tmp_path), runs_dir=str(tmp_path / "drive"))
    assert ch.runs_dir == tmp_path / "drive"
    assert (
        short_run_config(ch).run_dir() == tmp_path / "drive" / "smoke" / "synthetic" / "book-full"
    )


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (None, [{"overwrite": True}]),  # nothing there: train
        (0, [{"resume": "last"}]),  # stopped before its last epoch (a disconnect): go on
        ("done", []),  # finished: reuse
        ("other", [{"overwrite": True}]),  # a run of another config: replace it
    ],
)
def test_a_short_run_is_trained_resumed_or_reused(tmp_path, calls, left, expected):
    from reid_lib.book.training import short_run

    ch = start("x", profile="smoke", results_dir=str(tmp_path), runs_dir=str(tmp_path / "runs"))
    config = short_run_config(ch)
    epochs = config.schedule.epochs
    if left == "other":
        leave_run(apply_overrides(config, ["optim.lr=0.1"]), epochs)
    elif left is not None:
        leave_run(config, epochs if left == "done" else left)
    run = short_run(ch)
    assert run.run_dir == config.run_dir()
    last = config.run_dir() / "last.pt"
    assert calls == [{k: last if v == "last" else v for k, v in e.items()} for e in expected]
