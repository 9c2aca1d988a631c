"""The command-line tools' one wrapper: one line, exit 2, another status only where asked."""

from __future__ import annotations

import argparse

import pytest

from reid_lib import train as train_entry
from reid_lib.engine.trainer import NonFiniteLossError
from reid_lib.errors import EXIT_USAGE, run_reported


def raising(err: BaseException):
    def action() -> int:
        raise err

    return action


def test_bad_input_is_one_line_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_reported("tool", raising(ValueError("key x:\n  expected y"))) == EXIT_USAGE
    assert capsys.readouterr().err == "tool: error: key x: expected y\n"


def test_statuses_pick_the_exit_status_by_kind(capsys: pytest.CaptureFixture[str]) -> None:
    statuses = {NonFiniteLossError: 1}
    assert run_reported("t", raising(NonFiniteLossError("loss nan")), statuses=statuses) == 1
    assert run_reported("t", raising(OSError("disk")), statuses=statuses) == EXIT_USAGE
    assert capsys.readouterr().err.splitlines() == ["t: error: loss nan", "t: error: disk"]


def test_debug_lets_the_exception_through_and_others_are_not_caught() -> None:
    with pytest.raises(ValueError, match="bad"):
        run_reported("t", raising(ValueError("bad")), debug=True)
    with pytest.raises(KeyboardInterrupt):
        run_reported("t", raising(KeyboardInterrupt()))


def test_reid_train_exits_1_for_a_loss_that_is_not_finite(monkeypatch, capsys) -> None:
    def diverging(*args, **kwargs):
        raise NonFiniteLossError("loss is nan at epoch 2, step 6")

    monkeypatch.setattr("reid_lib.engine.experiment.train", diverging)
    args = argparse.Namespace(
        config="smoke", overrides=[], resume=None, overwrite=False, debug=False
    )
    assert train_entry.run(args) == 1
    assert capsys.readouterr().err == "reid train: error: loss is nan at epoch 2, step 6\n"
