"""The studies and their sweep (``python -m tools.sweep``): rows, planning, sharding, merging,
smoke runs and evaluations on other test sets."""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from reid_lib.data.synthetic_people import KNOBS
from reid_lib.engine.checkpoint import CheckpointError
from reid_lib.engine.config import PRESETS, load_config
from reid_lib.engine.results import NO_KNOB, write_results
from reid_lib.studies import (
    CORE_ROWS,
    PROFILES,
    PlannedRun,
    Step,
    available_real_sets,
    book_steps,
    equivalent_rows,
    get_profile,
    infeasible_rows,
    knob_settings,
    knob_test_sets,
    load_rows,
    load_studies,
    merge_trees,
    own_test_set,
    parse_shard,
    plan_runs,
    row_config,
    shard,
    study_rows,
    transfer_test_sets,
    with_variant,
)
from reid_lib.studies.rows import LONGER_ROW, PRIORITY_ROWS, SET_BATCHES_ROW, SET_SOFTMAX_ROW
from tests.result_files import result_dict
from tools.sweep import main

ROWS = {"baseline": ["model.non_local=false"], "full": [], "parts-2": ["model.num_parts=2"]}


def test_every_ablation_row_is_a_valid_config_change():
    rows = load_rows()
    full = load_config("cpu", rows["full"]).model
    for name, overrides in rows.items():
        joint = ["data.dataset=joint"] if name in (SET_BATCHES_ROW, SET_SOFTMAX_ROW) else []
        load_config("cpu", [*overrides, *joint])
    base = load_config("cpu", rows["baseline"]).model
    assert (base.non_local, base.msg, base.tsa, base.wdp) == (False, False, False, False)
    assert (full.non_local, full.msg, full.tsa, full.wdp) == (True, True, True, True)
    assert full.part_fusion == "adaptive"
    msg, plain = (load_config("cpu", rows[r]).model for r in ("msg", "msg-no-tsa"))
    assert (msg.msg, msg.tsa, plain.msg, plain.tsa) == (True, True, True, False), "MSG has TSA"
    assert load_config("cpu", rows["fusion-plain"]).model.part_fusion == "plain"
    assert load_config("cpu", rows["msg-branches-1-2"]).model.msg_branches == (1, 2)
    parts = [load_config("cpu", rows[f"parts-{n}"]).model.num_parts for n in (2, 3, 4, 6, 8)]
    assert parts == [2, 3, 4, 6, 8]
    longer = load_config("cpu", rows[LONGER_ROW])
    assert longer.model == base, "the baseline"
    cpu = load_config("cpu").schedule
    assert (
        (longer.schedule.epochs, longer.schedule.milestones)
        == (24, (18,))
        == (
            2 * cpu.epochs,
            tuple(2 * m for m in cpu.milestones),
        )
    ), "the cpu preset's schedule, doubled"
    assert longer.schedule.warmup_epochs == cpu.warmup_epochs
    softmax = load_config("cpu", [*rows[SET_SOFTMAX_ROW], "data.dataset=joint"])
    assert softmax.loss.per_set_softmax and not longer.loss.per_set_softmax
    assert (softmax.model, softmax.schedule) == (longer.model, longer.schedule), "the 24-epoch row"


def test_studies_name_only_known_rows_and_cover_every_row():
    rows, studies = load_rows(), load_studies()
    named = {row for members in studies.values() for row in members}
    diagnosis = {SET_BATCHES_ROW, LONGER_ROW, SET_SOFTMAX_ROW}
    assert named | diagnosis == set(rows), "the joint-training diagnosis is in no study"
    assert not named & diagnosis
    assert set(study_rows()) == named and list(study_rows()) == [r for r in rows if r in named]
    assert studies["modules"] == ["baseline", "nl", "msg", "wdp", "full"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rows: {a: []}\n", "expected 'studies:'"),
        ("studies: {s: [a]}\n", "expected 'rows:'"),
        ("rows: {a: []}\nstudies: {s: [a, b]}\n", r"study 's' names rows \['b'\]"),
    ],
)
def test_a_malformed_ablations_file_is_named(tmp_path, text, message):
    path = tmp_path / "ablations.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_rows(path)


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("smoke", {"parts-3": "full", "fusion-adaptive": "full", "scratch": "full"}),
        ("cpu", {"parts-4": "full", "fusion-adaptive": "full", "image-128x64": "full"}),
        ("full", {"parts-6": "full", "fusion-adaptive": "full", "image-256x128": "full"}),
    ],
)
def test_rows_that_equal_the_full_model_under_a_profile_are_found(profile, expected):
    assert equivalent_rows(load_rows(), profile) == expected


def test_row_config_reads_real_datasets_from_their_folder():
    viper = row_config("cpu", ["model.tsa=false"], "viper")
    assert (viper.data.dataset, viper.data.root, viper.model.tsa) == (
        "viper",
        "peta-reid/VIPeR",
        False,
    )
    assert not viper.eval.multi_query
    market = row_config("full", [], "market1501")
    assert (market.data.root, market.eval.multi_query) == ("Market-1501-v15.09.15", True)
    mine = row_config("cpu", [], "viper", ["data.root=/elsewhere"])
    assert mine.data.root == "/elsewhere"
    assert row_config("cpu", [], "synthetic").data.root is None


def test_knob_settings_turn_one_knob_up_at_a_time():
    sets = knob_settings(0.8)
    assert list(sets) == [NO_KNOB, *KNOBS]
    assert set(sets[NO_KNOB].values()) == {0.0}
    for knob in KNOBS:
        assert {k: v for k, v in sets[knob].items() if v} == {knob: 0.8}
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match=f"--level {bad}"):
            knob_settings(bad)
    assert list(knob_settings(1.0, ["clutter"])) == [NO_KNOB, "clutter"]
    with pytest.raises(ValueError, match=r"--knobs: unknown knob\(s\) \['glare'\]"):
        knob_settings(1.0, ["glare"])


def test_test_sets_name_their_results_and_select_their_images(tmp_path):
    knob = knob_test_sets(0.5, ["posture"])
    assert [t.result_name("full-seed1") for t in knob] == [
        "knob-none-full-seed1",
        "knob-posture-full-seed1",
    ]
    assert {t.dataset for t in knob} == {"synthetic"}
    assert "posture: 0.5" in knob[1].overrides[2] and "data.root=null" in knob[1].overrides
    moved = transfer_test_sets("viper", ["synthetic", "viper", "grid"], tmp_path)
    assert [(t.dataset, t.result_name("nl-seed0")) for t in moved] == [
        ("synthetic", "from-viper-nl-seed0"),
        ("grid", "from-viper-nl-seed0"),
    ]
    assert moved[0].overrides == ("data.dataset=synthetic", "data.root=null")
    assert moved[1].overrides == ("data.dataset=grid", f"data.root={tmp_path / 'peta-reid/GRID'}")


def test_the_book_plan_follows_the_profile_and_the_data_at_hand(tmp_path):
    assert available_real_sets(None) == []
    (tmp_path / "peta-reid" / "GRID").mkdir(parents=True)
    (tmp_path / "peta-reid" / "VIPeR").mkdir(parents=True)
    real = available_real_sets(tmp_path)
    assert real == ["viper", "grid"]
    (tmp_path / "a-file").write_text("")
    for wrong, what in ((tmp_path / "a-file", "a file"), (tmp_path / "absent", "not there")):
        with pytest.raises(
            NotADirectoryError, match=rf"data root {wrong}: expected a folder.*{what}"
        ):
            available_real_sets(wrong)
    steps = book_steps("cpu", real)
    splits, core = (0, 1, 2, 3, 4), tuple(range(10))
    first = ("colour-histogram", "lomo-xqda", "baseline", "full", "nl", "msg", "wdp")
    compared = ("resnet-ide", "resnet-bot", "pcb", "pcb-triplet", "hpm", "hpm-triplet", "full")
    others = tuple(row for row in study_rows() if row not in compared)
    assert steps[:5] == [
        Step("run", "viper", first, (1,), splits=core),
        Step("run", "grid", first, (1,), splits=core),
        Step("run", "viper", compared[:-1], (1,), splits=splits),
        Step("run", "grid", compared[:-1], (1,), splits=splits),
        Step("run", "synthetic", compared, (0, 1, 2)),
    ]
    both = ("viper", "grid")
    assert steps[5:18] == [
        Step("joint", "joint", ("baseline", "full"), (1,), both, splits),
        Step("joint", "joint", ("baseline-set-batches",), (1,), both, (0, 1, 2)),
        Step("adapt-bn", "joint", ("baseline", "baseline-set-batches"), (1,), both, (0, 1, 2)),
        Step("adapt-bn", "viper", ("baseline",), (1,), ("viper",), (0, 1, 2)),
        Step("adapt-bn", "grid", ("baseline",), (1,), ("grid",), (0, 1, 2)),
        Step("joint", "joint", ("baseline-24-epochs",), (1,), both, (0, 1, 2)),
        Step("adapt-bn", "joint", ("baseline-24-epochs",), (1,), both, (0, 1, 2)),
        Step("run", "viper", ("baseline-24-epochs",), (1,), splits=(0, 1, 2)),
        Step("run", "grid", ("baseline-24-epochs",), (1,), splits=(0, 1, 2)),
        Step("joint", "joint", (SET_SOFTMAX_ROW,), (1,), both, (0, 1, 2)),
        Step("train-split", "viper", ("baseline-24-epochs",), (1,), ("viper",), (0, 1, 2)),
        Step("train-split", "grid", ("baseline-24-epochs",), (1,), ("grid",), (0, 1, 2)),
        Step("train-split", "joint", (SET_SOFTMAX_ROW,), (1,), both, (0, 1, 2)),
    ]
    assert steps[18:20] == [
        Step("run", "synthetic", PRIORITY_ROWS, tuple(range(10))),
        Step("run", "synthetic", others, (0, 1, 2)),
    ]
    assert {"baseline", "tsa-off", "parts-6", "scratch"} <= set(others)
    later = [s for s in steps[20:] if s.command == "run"]
    assert [(s.dataset, s.seeds, s.splits) for s in later] == [
        ("viper", (1,), splits),
        ("grid", (1,), splits),
    ]
    assert set(later[0].rows) >= {"tsa-off", "fusion-plain", "parts-6", "scratch"}
    assert not set(later[0].rows) & {*first, *compared, "msg-branches-1", "image-256x128"}
    assert Step("knobs", "synthetic", CORE_ROWS, (0,)) in steps
    transfers = {s.dataset: (s.tests, s.splits) for s in steps if s.command == "transfer"}
    assert transfers == {
        "synthetic": (("viper", "grid"), (None,)),
        "viper": (("synthetic", "grid"), (0,)),  # with seed 1, as every real-set run
    }
    alone = book_steps("smoke")
    assert [s.command for s in alone] == ["run", "run", "knobs"]
    assert alone[0].seeds == alone[1].seeds == (0,)
    assert {*alone[0].rows, *alone[1].rows} == set(study_rows())
    smoke = book_steps("smoke", real)
    assert [(s.command, s.dataset, s.tests) for s in smoke] == [
        ("run", "synthetic", ()),
        ("run", "synthetic", ()),
        ("knobs", "synthetic", ()),
        ("transfer", "synthetic", ("viper", "grid")),
    ]
    full = book_steps("full", real)
    assert [(s.dataset, s.rows) for s in full] == [
        ("market1501", study_rows()),
        ("dukemtmc_reid", ("full",)),
        ("msmt17", ("full",)),
    ]


def test_plan_crosses_splits_seeds_and_rows_and_rejects_unknown_rows():
    runs = plan_runs(ROWS, ["full", "baseline"], [0, 1])
    assert [r.name for r in runs] == [
        "full-seed0",
        "baseline-seed0",
        "full-seed1",
        "baseline-seed1",
    ]
    assert runs[1] == PlannedRun("baseline", 0, ("model.non_local=false",))
    assert "data.split=0" not in runs[1].identity()
    split = plan_runs(ROWS, ["full", "baseline"], [0], [3, 4])
    assert [r.name for r in split] == [
        "full-split3-seed0",
        "baseline-split3-seed0",
        "full-split4-seed0",
        "baseline-split4-seed0",
    ]
    assert split[3].identity() == [
        "run.name=baseline-split4-seed0",
        "run.row=baseline",
        "run.seed=0",
        "data.split=4",
    ]
    assert len(plan_runs(ROWS, None, [0])) == 3
    with pytest.raises(ValueError, match=r"unknown row.*'nope'"):
        plan_runs(ROWS, ["nope"], [0])


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_shards_are_disjoint_and_cover_every_run(count):
    runs = plan_runs(ROWS, None, [0, 1, 2])
    shards = [shard(runs, i, count) for i in range(count)]
    names = [r.name for part in shards for r in part]
    assert sorted(names) == sorted(r.name for r in runs)
    assert len(set(names)) == len(runs)


@pytest.mark.parametrize("text", ["2/2", "-1/2", "1", "a/b", "0/0"])
def test_bad_shard_is_refused(text):
    with pytest.raises(ValueError, match="expected i/n with 0 <= i < n"):
        parse_shard(text)
    assert parse_shard("1/3") == (1, 3)


def _results_text(name: str, rank1: float) -> str:
    data = result_dict(name, profile="cpu", dataset="viper", rank1=rank1, row="full")
    return json.dumps(data)


def test_merge_combines_trees_and_refuses_conflicts(tmp_path):
    a, b, into = tmp_path / "a", tmp_path / "b", tmp_path / "results"
    x, y = _results_text("x", 0.5), _results_text("y", 0.25)
    for root, run, text in ((a, "x", x), (b, "y", y), (b, "x", x)):
        (root / "cpu" / "viper").mkdir(parents=True, exist_ok=True)
        (root / "cpu" / "viper" / f"{run}.json").write_text(text)
    copied = merge_trees([a, b], into)
    assert sorted(p.name for p in copied) == ["x.json", "y.json"], "identical x copied once"
    assert (into / "cpu" / "viper" / "y.json").read_text() == y
    (b / "cpu" / "viper" / "x.json").write_text(_results_text("x", 0.75))
    with pytest.raises(FileExistsError, match="different files for one path"):
        merge_trees([b], into)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        merge_trees([tmp_path / "missing"], into)
    # A worktree instead of its results folder: every file one level too deep, none merged.
    worktree = tmp_path / "worktree"
    (worktree / "results" / "cpu" / "viper").mkdir(parents=True)
    (worktree / "results" / "cpu" / "viper" / "w.json").write_text(_results_text("w", 0.5))
    with pytest.raises(ValueError, match=r"w\.json: not where merge takes files from"):
        merge_trees([worktree], into)


def test_merge_takes_figure_data_and_pretraining_records_along(tmp_path):
    a, into = tmp_path / "a", tmp_path / "results"
    figures = a / "cpu" / "figures" / "synthetic"
    figures.mkdir(parents=True)
    (figures / "full-seed0.json").write_text("{}")
    np.savez(figures / "full-seed0.npz", x=np.zeros(2))
    (a / "pretrained").mkdir()
    (a / "pretrained" / "peta-resnet18.json").write_text('{"sha256": "ab"}')
    copied = merge_trees([a], into)
    assert sorted(p.relative_to(into).as_posix() for p in copied) == [
        "cpu/figures/synthetic/full-seed0.json",
        "cpu/figures/synthetic/full-seed0.npz",
        "pretrained/peta-resnet18.json",
    ]
    (figures / "full-seed0.npz").unlink()
    with pytest.raises(FileNotFoundError, match=r"full-seed0\.npz is missing"):
        merge_trees([a], tmp_path / "half")
    (figures / "full-seed0.json").unlink()
    (a / "pretrained" / "peta-resnet18.json").write_text('{"file": "x.pt"}')
    with pytest.raises(ValueError, match="is not a pretraining record: it has no sha256"):
        merge_trees([a], tmp_path / "no-sha")
    assert not (tmp_path / "half").exists() and not (tmp_path / "no-sha").exists()


@pytest.mark.parametrize(
    ("second", "error", "message"),
    [
        ("{truncated", ValueError, r"results file \S*z\.json: "),
        (_results_text("z", 0.5).replace('"rank1": 0.5', '"rank1": 7'), ValueError, "rank1"),
    ],
)
def test_merge_is_all_or_nothing_and_refuses_corrupt_files(tmp_path, second, error, message):
    a, b, into = tmp_path / "a", tmp_path / "b", tmp_path / "results"
    (a / "cpu" / "viper").mkdir(parents=True)
    (a / "cpu" / "viper" / "good.json").write_text(_results_text("good", 0.5))
    (b / "cpu" / "viper").mkdir(parents=True)
    (b / "cpu" / "viper" / "z.json").write_text(second)
    with pytest.raises(error, match=message):
        merge_trees([a, b], into)
    assert not into.exists(), "nothing is copied when any file is refused"


def test_plan_refuses_a_data_root_that_is_a_file(tmp_path, monkeypatch, capsys):
    """It used to plan without every real set (103 runs instead of 493), and exit 0."""
    (tmp_path / "data").write_text("")
    monkeypatch.setenv("REID_DATA_ROOT", str(tmp_path / "data"))
    assert main(["plan", "--profile", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"data root {tmp_path / 'data'}: expected a folder" in err


@pytest.mark.parametrize(
    ("bad", "message"),
    [("model.non_lokal=false", r"model\.non_lokal"), ("optim.lr=fast", r"optim\.lr")],
)
def test_a_bad_set_override_is_an_error_not_a_reason_to_skip_every_row(
    tmp_path, capsys, bad, message
):
    argv = ["run", "--profile", "smoke", "--rows", "baseline", "full", "--seeds", "0"]
    argv += ["--results-dir", str(tmp_path / "results"), "--set", bad]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(message, err)
    assert not (tmp_path / "results").exists()


def test_one_smoke_run_writes_its_results_file_and_is_skipped_after(tmp_path, capsys):
    results = tmp_path / "results"
    argv = ["run", "--profile", "smoke", "--rows", "baseline", "--seeds", "0"]
    argv += ["--results-dir", str(results), "--set", f"run.output_dir={tmp_path / 'runs'}"]
    assert main(argv) == 0
    path = results / "smoke" / "synthetic" / "baseline-seed0.json"
    data = json.loads(path.read_text())
    assert data["run"] | {"name": None} == {
        "name": None,
        "profile": "smoke",
        "row": "baseline",
        "seed": 0,
        "train_set": "synthetic",
        "knob": None,
        "pretraining": None,
    }
    assert data["provenance"]["config"]["model"]["non_local"] is False
    mtime = path.stat().st_mtime_ns
    assert main(argv) == 0
    assert "baseline-seed0: skipped: " in capsys.readouterr().out
    assert path.stat().st_mtime_ns == mtime


def test_cli_errors_name_the_problem(capsys):
    assert main(["run", "--profile", "smoke", "--shard", "3/2"]) == 2
    assert main(["run", "--profile", "smoke", "--splits", "1"]) == 2
    with pytest.raises(ValueError, match="has no protocol splits"):
        main(["--debug", "run", "--profile", "smoke", "--splits", "1"])
    assert "--shard '3/2'" in capsys.readouterr().err


def test_the_sweep_without_rows_takes_every_study_row_and_no_diagnosis_row(monkeypatch):
    planned = []
    monkeypatch.setattr("tools.sweep.run_sweep", lambda runs, **_: planned.extend(runs))
    monkeypatch.setattr("tools.sweep.evaluate_runs", lambda runs, *_, **__: planned.extend(runs))
    assert main(["run", "--profile", "smoke", "--seeds", "0"]) == 0
    assert [run.row for run in planned] == list(study_rows())
    assert not {LONGER_ROW, SET_BATCHES_ROW, SET_SOFTMAX_ROW} & {run.row for run in planned}
    planned.clear()
    assert main(["knobs", "--profile", "smoke"]) == 0
    assert [run.row for run in planned] == list(study_rows())


def write_fake_viper(folder, num_ids=12):
    """A VIPeR-named folder of random images (``<id>_<angle>_<cam>.bmp``, two cameras)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for pid in range(num_ids):
        for cam in (1, 2):
            pixels = rng.integers(0, 256, size=(128, 48, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{pid:03d}_0_{cam}.bmp")


def test_trained_runs_are_evaluated_across_datasets_and_knobs(tmp_path, monkeypatch, capsys):
    """One smoke run, then `transfer` to a VIPeR-named folder and `knobs` on the synthetic set."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REID_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.setenv("REID_SPLITS_DIR", str(tmp_path / "splits"))
    write_fake_viper(tmp_path / "data" / "peta-reid" / "VIPeR")
    common = ["--profile", "smoke", "--rows", "baseline", "--seeds", "0"]
    assert main(["transfer", *common, "--train", "synthetic", "--test", "viper"]) == 2
    assert "train it first with python -m tools.sweep run" in capsys.readouterr().err

    assert main(["run", *common]) == 0
    assert main(["transfer", *common, "--train", "synthetic", "--test", "synthetic", "viper"]) == 0
    results = tmp_path / "results" / "smoke"
    moved = json.loads((results / "viper" / "from-synthetic-baseline-seed0.json").read_text())
    assert moved["dataset"]["name"] == "viper"
    assert (moved["run"]["train_set"], moved["run"]["row"], moved["run"]["knob"]) == (
        "synthetic",
        "baseline",
        None,
    )
    assert moved["dataset"]["num_query"] == moved["dataset"]["num_gallery"] == 6
    assert not (results / "synthetic" / "from-synthetic-baseline-seed0.json").exists()

    assert main(["knobs", *common, "--level", "0.9", "--knobs", "occlusion"]) == 0
    knob_files = sorted((results / "synthetic").glob("knob-*-baseline-seed0.json"))
    assert [p.name for p in knob_files] == [
        "knob-none-baseline-seed0.json",
        "knob-occlusion-baseline-seed0.json",
    ]
    for path, label in zip(knob_files, [NO_KNOB, "occlusion"], strict=True):
        data = json.loads(path.read_text())
        assert data["provenance"]["config"]["data"]["synthetic_knobs"] == knob_settings(0.9)[label]
        assert (data["run"]["knob"], data["run"]["train_set"]) == (label, "synthetic")
    assert (tmp_path / "runs" / "data" / "synthetic-tiny-seed0").is_dir()
    generated = sorted(p.name for p in (tmp_path / "runs" / "data").iterdir() if p.name[0] != ".")
    assert len(generated) == 3, "the training set, and one test set per knob setting"


def test_rows_with_more_parts_than_stage4_rows_are_refused_with_the_reason():
    smoke = infeasible_rows(load_rows(), "smoke")
    assert set(smoke) == {"parts-6", "parts-8", SET_BATCHES_ROW, SET_SOFTMAX_ROW}
    assert smoke["parts-8"].startswith("model.num_parts=8 needs images at least 128 pixels high")
    assert "data.height=64" in smoke["parts-8"]
    assert set(infeasible_rows(load_rows(), "cpu")) == {
        SET_BATCHES_ROW,
        SET_SOFTMAX_ROW,
    }, "joint training only"
    assert infeasible_rows(load_rows(), "cpu", "joint") == {}


def test_every_engine_preset_but_pretrain_is_a_profile_and_unknown_ones_are_named():
    assert (*PROFILES, "pretrain") == PRESETS
    assert get_profile("cpu").seeds == (0, 1, 2)
    assert get_profile("cpu").splits == (0, 1, 2, 3, 4)
    assert (get_profile("cpu").core_splits, get_profile("cpu").real_seed) == (tuple(range(10)), 1)
    assert [p.trains_in_build for p in PROFILES.values()] == [True, False, False, False]
    assert get_profile("colab").large_benchmarks is False, "colab shows trained results quickly"
    with pytest.raises(ValueError, match=r"profile 'gpu' is unknown; expected one of"):
        get_profile("gpu")


def test_plan_counts_the_training_runs_and_epochs_of_a_profile(capsys, tmp_path):
    assert main(["plan", "--profile", "full", "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    studied = {row: load_rows()[row] for row in study_rows()}  # not the joint diagnosis's
    market = len(studied) - len(equivalent_rows(studied, "full", "market1501"))
    market -= len(infeasible_rows(studied, "full"))
    assert f"run market1501: {market} training run(s)" in out
    # The colour-histogram floor and LOMO + XQDA are two of the runs, and train for no epoch.
    assert f"full: {market + 2} training runs, {market * 120} epochs in all; 0 done" in out
    assert f"run market1501: {market} training run(s), 0 done, about 0.0 h left" in out
    assert "about 0.0 hours left" in out and f"{market + 2} run(s) without an estimate" in out


def test_plan_counts_a_tested_joint_run_as_done_and_times_the_others_by_it(
    capsys, tmp_path, monkeypatch
):
    for folder in ("peta-reid/VIPeR", "peta-reid/GRID"):
        (tmp_path / "data" / folder).mkdir(parents=True)
    monkeypatch.setenv("REID_DATA_ROOT", str(tmp_path / "data"))
    data = result_dict("joint-baseline-split0-seed1", profile="cpu", dataset="viper", rank1=0.3)
    data["run"].update(row="baseline", train_set="joint", seed=1)
    data["provenance"]["wall_time_s"] = 720.0
    write_results(data, tmp_path / "results")
    assert main(["plan", "--profile", "cpu", "--results-dir", str(tmp_path / "results")]) == 0
    joint_lines = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith("joint")
    ]
    # baseline and full on 5 splits, one tested; 9 left at the tested run's 12 minutes.
    assert (
        joint_lines[0] == "joint joint -> viper, grid: 10 training run(s), 1 done, about 1.8 h left"
    )


def test_a_spent_time_budget_starts_no_run(tmp_path, monkeypatch, caplog):
    import reid_lib.studies.sweep as sweep

    caplog.set_level(logging.INFO, logger=sweep.__name__)
    monkeypatch.setattr(sweep, "train", lambda *a, **k: pytest.fail("no run may start"))
    runs = plan_runs(load_rows(), ["baseline", "full"], [0])
    spent = time.monotonic() - 1
    assert sweep.run_sweep(runs, profile="smoke", results_dir=tmp_path, deadline=spent) == []
    assert "stop before baseline-seed0: the time budget is spent" in caplog.text


def test_a_joint_step_out_of_time_stops_between_runs_and_tests_each_trained_one(
    tmp_path, monkeypatch, caplog
):
    """Two joint runs, time for one: the first is trained and tested, the second not started."""
    import reid_lib.studies.steps as steps

    caplog.set_level(logging.INFO, logger=steps.__name__)
    clock = iter([0.0, 10.0])  # the steps module's clock only: before each run
    monkeypatch.setattr(steps, "time", SimpleNamespace(monotonic=lambda: next(clock)))
    trained, tested, overrides = [], [], []
    monkeypatch.setattr(
        steps, "run_sweep", lambda runs, extra, **_: trained.extend(runs) or overrides.extend(extra)
    )
    monkeypatch.setattr(
        steps, "evaluate_runs", lambda runs, *_, **__: tested.extend(runs) or [tmp_path / "r.json"]
    )
    step = Step("joint", "joint", ("baseline",), (1,), ("viper", "grid"), (0, 1))
    written = steps.run_step(step, profile="cpu", results_dir=tmp_path, deadline=5.0)
    assert written == [tmp_path / "r.json"]
    assert [r.name for r in trained] == [r.name for r in tested] == ["baseline-split0-seed1"]
    assert "stop before baseline-split1-seed1: the time budget is spent" in caplog.text
    assert "data.joint_sets=[viper, grid]" in overrides, "trained on the sets it is tested on"


def test_an_adapt_bn_step_tests_a_joint_run_on_each_set_and_a_run_on_its_own(tmp_path, monkeypatch):
    import reid_lib.studies.steps as steps

    calls = []
    monkeypatch.setattr(
        steps, "evaluate_runs", lambda runs, test_sets, **kw: calls.append((runs, test_sets, kw))
    )
    step = Step("adapt-bn", "joint", ("baseline",), (1,), ("viper", "grid"), (0,))
    steps.run_step(step, profile="cpu", results_dir=tmp_path, data_root=Path("/data"))
    steps.run_step(
        Step("adapt-bn", "grid", ("baseline",), (1,), ("grid",), (0,)),
        profile="cpu",
        results_dir=tmp_path,
        data_root=Path("/data"),
    )
    (joint_runs, joint_tests, joint_kw), (_, own_tests, own_kw) = calls
    assert [r.name for r in joint_runs] == ["baseline-split0-seed1"]
    assert [(t.dataset, t.result_name("r"), t.variant) for t in joint_tests] == [
        ("viper", "joint-r", "single_query_adabn"),
        ("grid", "joint-r", "single_query_adabn"),
    ]
    assert all("eval.adapt_bn=true" in t.overrides for t in joint_tests + own_tests)
    assert [(t.dataset, t.result_name("r")) for t in own_tests] == [("grid", "r")], "its own file"
    assert "data.root=/data/peta-reid/GRID" in own_tests[0].overrides
    assert (joint_kw["train_dataset"], own_kw["train_dataset"]) == ("joint", "grid")


def test_a_test_set_is_tested_again_only_for_a_known_variant(tmp_path):
    (fit,) = with_variant([own_test_set("grid", tmp_path)], "train_split")
    assert fit.variant == "train_split" and fit.overrides[-1] == "eval.train_split=true"
    with pytest.raises(ValueError, match=r"variant 'single_query': expected one of \['single_"):
        with_variant([own_test_set("grid", tmp_path)], "single_query")


def test_evaluate_runs_skips_a_file_that_has_the_variant_and_adds_one_that_lacks_it(
    tmp_path, monkeypatch
):
    import reid_lib.studies.test_sets as test_sets

    monkeypatch.setattr(PlannedRun, "trained_checkpoint", lambda *a: tmp_path / "last.pt")
    evaluated = []
    monkeypatch.setattr(
        test_sets,
        "evaluate_checkpoint",
        lambda path, overrides, **_: evaluated.append(overrides) or path,
    )
    runs = plan_runs(load_rows(), ["baseline"], [1], [0])
    (adapted,) = with_variant([own_test_set("grid", tmp_path)], "single_query_adabn")
    folder = tmp_path / "results" / "cpu" / "grid"
    folder.mkdir(parents=True)
    data = result_dict("baseline-split0-seed1", profile="cpu", dataset="grid", rank1=0.3)
    (folder / "baseline-split0-seed1.json").write_text(json.dumps(data))
    kwargs = {"profile": "cpu", "train_dataset": "grid", "runs_dir": tmp_path}
    test_sets.evaluate_runs(runs, [adapted], results_dir=tmp_path / "results", **kwargs)
    assert len(evaluated) == 1 and "run.name=baseline-split0-seed1" in evaluated[0]
    data["metrics"]["single_query_adabn"] = data["metrics"]["single_query"]
    (folder / "baseline-split0-seed1.json").write_text(json.dumps(data))
    test_sets.evaluate_runs(runs, [adapted], results_dir=tmp_path / "results", **kwargs)
    assert len(evaluated) == 1, "the file has the variant: not evaluated again"
    (fit,) = with_variant([own_test_set("grid", tmp_path)], "train_split")
    test_sets.evaluate_runs(runs, [fit], results_dir=tmp_path / "results", **kwargs)
    assert {"eval.train_split=true", "eval.adapt_bn=true"} <= set(evaluated[1]), "AdaBN kept"


def test_run_costs_reads_wall_time_and_throughput_from_the_results(tmp_path, capsys):
    from benchmarks.run_costs import main as run_costs

    runs = ((0, 120.0, 40.0, "peta-resnet18 sha256:18564cae6341"), (1, 240.0, None, None))
    for split, seconds, throughput, pretraining in runs:
        data = result_dict(f"r{split}", profile="cpu", dataset="viper", rank1=0.3, row="full")
        data["dataset"]["split"] = split
        data["provenance"]["wall_time_s"] = seconds
        data["training"]["images_per_s"] = throughput
        data["run"]["pretraining"] = pretraining
        (tmp_path / "cpu" / "viper").mkdir(parents=True, exist_ok=True)
        (tmp_path / "cpu" / "viper" / f"r{split}.json").write_text(json.dumps(data))
    for dataset in ("viper", "grid"):  # one joint run, tested on two sets: one line
        data = result_dict("j", profile="cpu", dataset=dataset, rank1=0.2, row="full")
        data["run"]["train_set"] = "joint"
        data["provenance"]["wall_time_s"] = 60.0
        (tmp_path / "cpu" / dataset).mkdir(parents=True, exist_ok=True)
        (tmp_path / "cpu" / dataset / "joint-full.json").write_text(json.dumps(data))
    run_costs(["--results-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert "3 runs, 0.12 hours of wall time" in out
    assert [line.split()[:2] for line in out.splitlines()[1:4]] == [
        ["joint", "full"],
        ["viper", "full"],
        ["viper", "full"],
    ]
    assert "40.0" in out and "4.0" in out, "images/s and the longest run's minutes"
    lines = out.splitlines()
    assert lines[2].endswith("peta-resnet18 sha256:18564cae6341"), "the backbone a run started from"
    assert lines[3].split()[-3:] == ["-", "cpu", "none"], "no NaN for a run that trained nothing"


@pytest.mark.slow
def test_the_joint_step_trains_once_on_two_sets_and_tests_on_each(tmp_path, monkeypatch, capsys):
    """`python -m tools.sweep joint`: one training run on both sets, one results file for each."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REID_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.setenv("REID_SPLITS_DIR", str(tmp_path / "splits"))
    write_fake_viper(tmp_path / "data" / "peta-reid" / "VIPeR")
    write_fake_viper(tmp_path / "data" / "peta-reid" / "VIPeR-copy", num_ids=10)
    caviar = tmp_path / "data" / "peta-reid" / "CAVIAR4REID"
    caviar.mkdir(parents=True)
    for index, image in enumerate((tmp_path / "data" / "peta-reid" / "VIPeR-copy").iterdir()):
        pid, cam = divmod(index, 2)  # ten ids, one image in each "camera" (index 1 and 11)
        Image.open(image).save(caviar / f"{pid + 1:04d}_{1 + 10 * cam:03d}.jpg")
    argv = ["joint", "--profile", "smoke", "--rows", "baseline", "--seeds", "0", "--splits", "0"]
    assert main(argv) == 0, "the sets at hand: VIPeR and CAVIAR4REID"
    written = sorted((tmp_path / "results" / "smoke").glob("*/joint-*.json"))
    assert [p.parent.name for p in written] == ["caviar4reid", "viper"]
    for path in written:
        result = json.loads(path.read_text())
        assert (result["run"]["train_set"], result["dataset"]["split"]) == ("joint", 0)
        assert path.name == "joint-baseline-split0-seed0.json"
        assert result["provenance"]["config"]["data"]["joint_sets"] == ["viper", "caviar4reid"]
    checkpoint = tmp_path / "runs" / "smoke" / "joint" / "baseline-split0-seed0" / "last.pt"
    before = checkpoint.stat().st_mtime_ns
    assert main(argv) == 0
    assert checkpoint.stat().st_mtime_ns == before, "a trained joint run is not trained again"
    plain = [json.loads(path.read_text())["metrics"] for path in written]
    adapt = [
        "adapt-bn",
        "--profile",
        "smoke",
        "--dataset",
        "joint",
        "--seeds",
        "0",
        "--splits",
        "0",
    ]
    assert main(adapt) == 0
    adapted = []
    for path, before_metrics in zip(written, plain, strict=True):
        metrics = json.loads(path.read_text())["metrics"]
        assert set(metrics) == {"single_query", "single_query_adabn"}, "AdaBN added to each set's"
        assert metrics["single_query"] == before_metrics["single_query"]
        adapted.append(metrics)
    assert main(["train-split", *adapt[1:]]) == 0
    for path, before_metrics in zip(written, adapted, strict=True):
        metrics = json.loads(path.read_text())["metrics"]
        assert set(metrics) == {"single_query", "single_query_adabn", "train_split"}, "kept"
        assert {k: metrics[k] for k in before_metrics} == before_metrics


def test_an_untrained_run_names_the_command_that_trains_it(tmp_path):
    (run,) = plan_runs(load_rows(), ["full"], [1], [0])
    with pytest.raises(FileNotFoundError, match=r"tools\.sweep joint --profile cpu --rows full"):
        run.trained_checkpoint(tmp_path, "cpu", "joint")
    viper = r"tools\.sweep run --profile cpu --dataset viper --rows full --seeds 1 --splits 0 \("
    with pytest.raises(FileNotFoundError, match=viper + r"a run whose results file exists is"):
        run.trained_checkpoint(tmp_path, "cpu", "viper")


def test_the_joint_step_needs_two_sets(monkeypatch, capsys):
    monkeypatch.delenv("REID_DATA_ROOT", raising=False)
    assert main(["joint", "--profile", "cpu", "--sets", "viper"]) == 2
    assert "--sets ['viper']: expected two or more distinct" in capsys.readouterr().err
    assert main(["joint", "--profile", "cpu", "--sets", "viper", "viper"]) == 2
    assert "--sets ['viper', 'viper']: expected two or more distinct" in capsys.readouterr().err
    assert main(["joint", "--profile", "cpu"]) == 2, "no data root: no set at hand"


@pytest.mark.slow
def test_figure_data_of_a_trained_run_is_written_once_and_read_back(tmp_path, capsys, monkeypatch):
    from reid_lib.engine.figure_data import (
        figure_data_files,
        read_figure_data,
        upper_body_position,
    )

    # As the sweep runs: a relative runs folder, and a data root for the real sets beside it
    # (the synthetic set generated under the runs folder is not looked up there).
    monkeypatch.chdir(tmp_path)
    (tmp_path / "real").mkdir()
    monkeypatch.setenv("REID_DATA_ROOT", str(tmp_path / "real"))
    results, runs = tmp_path / "results", Path("runs")
    common = ["--profile", "smoke", "--rows", "full", "--seeds", "0", "--results-dir", str(results)]
    assert main(["figures", *common, "--runs-dir", str(runs)]) == 2
    assert "train it first with python -m tools.sweep run" in capsys.readouterr().err
    assert main(["run", *common, "--set", f"run.output_dir={runs}"]) == 0
    assert main(["figures", *common, "--runs-dir", str(runs)]) == 0
    (path,) = figure_data_files(results, "smoke")
    assert path == results / "smoke" / "figures" / "synthetic" / "full-seed0.json"
    data = read_figure_data(path)
    assert data.meta["run"] | {"name": None} == {
        "name": None,
        "profile": "smoke",
        "row": "full",
        "seed": 0,
        "dataset": "synthetic",
        "split": None,
    }
    queries, parts = len(data.meta["queries"]), data.config.model.num_parts
    assert data.arrays["ranked.gallery_index"].shape == (queries, 10)
    assert data.arrays["activation.stage1"].shape[0] == queries
    assert data.arrays["tsa"].shape[0] == queries
    assert data.arrays["part_weights"].shape == (queries, parts, 2)
    affinity = data.arrays["nonlocal.stage1"]
    assert affinity.shape == data.arrays["activation.stage1"].shape
    assert np.allclose(affinity.sum(axis=(1, 2)), 1, atol=1e-5), "one row of a softmax"
    row, col = data.arrays["nonlocal.position"]
    assert (row, col) == upper_body_position(*affinity.shape[1:])
    assert len(data.arrays["loss.step"]) == len(data.arrays["loss.loss"]) > 0
    assert set(data.meta["gallery"]) == {
        str(i) for i in data.arrays["ranked.gallery_index"].ravel()
    }
    assert "full on synthetic (seed 0), commit" in data.label
    mtime = path.stat().st_mtime_ns
    assert main(["figures", *common, "--runs-dir", str(runs)]) == 0
    assert path.stat().st_mtime_ns == mtime, "an existing file is kept"


def test_a_trained_run_without_its_results_file_is_evaluated_not_retrained(tmp_path, monkeypatch):
    import reid_lib.studies.sweep as sweep

    runs = plan_runs(load_rows(), ["baseline"], [0])
    extra = [f"run.output_dir={tmp_path / 'runs'}"]
    first = tmp_path / "first"
    (path,) = sweep.run_sweep(runs, profile="smoke", results_dir=first, extra=extra)
    monkeypatch.setattr(sweep, "train", lambda *a, **k: pytest.fail("no run may train again"))
    again = tmp_path / "again"
    (evaluated,) = sweep.run_sweep(runs, profile="smoke", results_dir=again, extra=extra)
    assert evaluated == again / path.relative_to(first)
    before, after = json.loads(path.read_text()), json.loads(evaluated.read_text())
    assert after["metrics"] == before["metrics"] and after["run"] == before["run"]
    changed = [*extra, "optim.lr=0.1"]
    with pytest.raises(CheckpointError, match=r"optim\.lr: checkpoint 0\.00035, config 0\.1"):
        sweep.run_sweep(runs, profile="smoke", results_dir=tmp_path / "third", extra=changed)
