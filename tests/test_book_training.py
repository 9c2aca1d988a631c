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


def test_without_a_row_the_run_is_the_chapters_profile_named_book(ch):
    config = short_run_config(ch)
    assert config.run.name == "book"
    assert config.model == ch.config.model and config.schedule == ch.config.schedule


def test_a_row_applies_its_overrides_and_names_the_run_after_it(ch):
    config = short_run_config(ch, "baseline")
    assert config.run.name == "book-baseline"
    assert config.run_dir().name == "book-baseline"
    assert (config.model.non_local, config.model.msg, config.model.tsa) == (False, False, False)
    assert config.model.wdp is False
    assert config.run.row == "baseline"
    expected = apply_overrides(short_run_config(ch), load_rows()["baseline"])
    assert config.model == expected.model
    assert short_run_config(ch, "full").model == short_run_config(ch).model


def test_an_unknown_row_is_named_with_the_defined_ones(ch):
    with pytest.raises(ValueError, match=r"row='nope' is not an ablation row; expected one of \["):
        short_run_config(ch, "nope")
