"""The results runner: the ablation rows, run planning, sharding, merging, one smoke run."""

from __future__ import annotations

import json

import pytest

from book.results import (
    PlannedRun,
    load_rows,
    main,
    merge_trees,
    parse_shard,
    plan_runs,
    shard,
)
from reid_lib.engine.config import load_config

ROWS = {"baseline": ["model.non_local=false"], "full": [], "parts-2": ["model.num_parts=2"]}


def test_every_ablation_row_is_a_valid_config_change():
    rows = load_rows()
    full = load_config("cpu", rows["full"]).model
    for overrides in rows.values():
        load_config("cpu", overrides)
    base = load_config("cpu", rows["baseline"]).model
    assert (base.non_local, base.msg, base.tsa, base.wdp) == (False, False, False, None)
    assert (full.non_local, full.msg, full.tsa, full.wdp) == (True, True, True, "adaptive")
    assert load_config("cpu", rows["msg-branches-1-2"]).model.msg_branches == (1, 2)
    parts = [load_config("cpu", rows[f"parts-{n}"]).model.num_parts for n in (2, 3, 4, 6, 8)]
    assert parts == [2, 3, 4, 6, 8]


def test_plan_crosses_rows_with_seeds_and_rejects_unknown_rows():
    runs = plan_runs(ROWS, ["full", "baseline"], [0, 1])
    assert [r.name for r in runs] == [
        "full-seed0",
        "full-seed1",
        "baseline-seed0",
        "baseline-seed1",
    ]
    assert runs[2] == PlannedRun("baseline", 0, ("model.non_local=false",))
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


def test_merge_combines_trees_and_refuses_conflicts(tmp_path):
    a, b, into = tmp_path / "a", tmp_path / "b", tmp_path / "results"
    for root, run, text in ((a, "x", "1"), (b, "y", "2"), (b, "x", "1")):
        (root / "cpu" / "toy").mkdir(parents=True, exist_ok=True)
        (root / "cpu" / "toy" / f"{run}.json").write_text(text)
    copied = merge_trees([a, b], into)
    assert sorted(p.name for p in copied) == ["x.json", "y.json"], "identical x copied once"
    assert (into / "cpu" / "toy" / "y.json").read_text() == "2"
    (b / "cpu" / "toy" / "x.json").write_text("3")
    with pytest.raises(FileExistsError, match="different results files"):
        merge_trees([b], into)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        merge_trees([tmp_path / "missing"], into)


def test_one_smoke_run_writes_its_results_file_and_is_skipped_after(tmp_path, capsys):
    results = tmp_path / "results"
    argv = ["run", "--profile", "smoke", "--rows", "baseline", "--seeds", "0"]
    argv += ["--results-dir", str(results), "--set", f"run.output_dir={tmp_path / 'runs'}"]
    assert main(argv) == 0
    path = results / "smoke" / "synthetic" / "baseline-seed0.json"
    data = json.loads(path.read_text())
    assert data["run_name"] == "baseline-seed0"
    assert data["provenance"]["config"]["model"]["non_local"] is False
    mtime = path.stat().st_mtime_ns
    assert main(argv) == 0
    assert "skip baseline-seed0" in capsys.readouterr().out
    assert path.stat().st_mtime_ns == mtime


def test_cli_errors_name_the_problem(capsys):
    assert main(["run", "--profile", "smoke", "--shard", "3/2"]) == 2
    assert "--shard '3/2'" in capsys.readouterr().err
