"""A chapter's parameters become the engine config of its profile; results carry provenance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("reid_lib.engine.config", reason="the chapters need reid_lib.engine")

from reid_lib.book.chapter import default_profile_name, start
from reid_lib.book.paths import BATCH_ENV, ROOT
from reid_lib.engine.config import ConfigError, load_config


def test_parameters_override_the_profile_preset(tmp_path):
    ch = start("x", profile="cpu", epochs=3, seed=5, device="cpu", results_dir=str(tmp_path))
    preset = load_config("cpu")
    assert ch.profile == "cpu"
    assert ch.config.schedule.epochs == 3 and ch.seed == 5
    assert ch.config.model == preset.model
    assert ch.image_size == (preset.data.height, preset.data.width)
    assert ch.results_path == tmp_path / "x.json"


def test_auto_profile_is_smoke_off_colab_and_epochs_default_to_the_preset(tmp_path, monkeypatch):
    monkeypatch.delenv("REID_DATA_ROOT", raising=False)
    assert default_profile_name() == "smoke"
    ch = start("x", results_dir=str(tmp_path))
    assert ch.profile == "smoke"
    assert ch.config.schedule.epochs == load_config("smoke").schedule.epochs
    assert ch.data_root is None


def test_a_chapter_started_elsewhere_works_from_the_repository_root(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path)
    ch = start("x", data_root="data", results_dir="out")
    assert Path.cwd() == ROOT
    assert ch.data_root == tmp_path / "data"
    assert ch.results_path == tmp_path / "out" / "x.json"
    assert ch.config.run.output_dir == "_build/runs"


def test_bad_parameters_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="epochs must be >= 0"):
        start("x", epochs=-1)
    with pytest.raises(ValueError, match="is not a folder"):
        start("x", data_root=str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError):
        start("x", profile="huge")


def test_results_file_holds_the_numbers_and_their_provenance(tmp_path):
    ch = start("x", device="cpu", seed=2, results_dir=str(tmp_path))
    assert ch.write_results({"rank1": 0.5, "nested": {"a": [1, 2]}}) is None
    data = json.loads((tmp_path / "x.json").read_text())
    assert data["numbers"] == {"rank1": 0.5, "nested": {"a": [1, 2]}}
    assert (data["chapter"], data["profile"], data["seed"]) == ("x", "smoke", 2)
    assert {"commit", "dirty", "torch", "written_at", "dataset", "device"} <= set(data)


def test_batch_runs_leave_widgets_out(tmp_path, monkeypatch):
    ch = start("x", results_dir=str(tmp_path))
    monkeypatch.delenv(BATCH_ENV, raising=False)
    assert ch.interactive
    monkeypatch.setenv(BATCH_ENV, "1")
    assert not ch.interactive


def test_prepare_data_fetches_a_missing_real_set_into_the_folder_the_chapter_reads(
    tmp_path, monkeypatch
):
    import reid_lib.book.data as book_data

    fetched = []

    def fake_fetch(name, dest):
        fetched.append((name, dest))
        return dest / "peta-reid" / "VIPeR"

    monkeypatch.setattr(book_data, "fetch", fake_fetch)
    ch = start("x", dataset="viper", data_root=str(tmp_path), results_dir=str(tmp_path / "r"))
    assert book_data.prepare_data(ch) == tmp_path / "peta-reid" / "VIPeR"
    assert fetched == [("viper", tmp_path)]
    (tmp_path / "peta-reid" / "VIPeR").mkdir(parents=True)
    assert book_data.prepare_data(ch) == tmp_path / "peta-reid" / "VIPeR"
    assert len(fetched) == 1, "a set already in place is not fetched again"
    monkeypatch.delenv("REID_DATA_ROOT", raising=False)
    with pytest.raises(ValueError, match="needs data_root"):
        book_data.prepare_data(start("x", dataset="viper", results_dir=str(tmp_path / "r")))


def test_paths_are_shown_relative_to_the_repository(tmp_path, monkeypatch):
    from reid_lib.book.paths import ROOT, shown_path

    assert shown_path(ROOT / "_build" / "runs" / "x") == "_build/runs/x"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert shown_path(tmp_path / "data" / "VIPeR") == "~/data/VIPeR"
    assert shown_path("/elsewhere/runs") == "/elsewhere/runs"


def test_overrides_reach_the_chapter_config(tmp_path):
    ch = start("x", profile="cpu", results_dir=str(tmp_path), overrides=["model.pretrained=null"])
    assert ch.config.model.pretrained is None
    assert load_config("cpu").model.pretrained is not None, "the preset starts from a backbone"


def test_set_up_starts_the_chapter_says_how_and_readies_its_data_only_when_asked(
    tmp_path, monkeypatch, capsys
):
    import reid_lib.book.set_up as set_up

    prepared = []
    monkeypatch.setattr(set_up, "prepare_data", prepared.append)
    ch = set_up.set_up_chapter(
        "x", profile="cpu", seed=4, device="cpu", results_dir=str(tmp_path), needs_data=False
    )
    assert (ch.name, ch.profile, ch.seed) == ("x", "cpu", 4)
    assert capsys.readouterr().out == "profile cpu, device cpu, seed 4\n"
    assert prepared == []
    ch = set_up.set_up_chapter("y", dataset="synthetic", results_dir=str(tmp_path))
    assert prepared == [ch] and ch.config.data.dataset == "synthetic"
    with pytest.raises(ValueError, match="epochs must be >= 0"):
        set_up.set_up_chapter("z", epochs=-1)


def test_set_up_refuses_a_parameter_that_start_does_not_take(tmp_path):
    from reid_lib.book.set_up import set_up_chapter

    with pytest.raises(TypeError, match="colour"):
        set_up_chapter("x", colour="red", results_dir=str(tmp_path))
