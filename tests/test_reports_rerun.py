"""Every results file says how to re-run it, and the committed-runs table is derived from files."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from reid_lib.book.paths import COMMITTED
from reid_lib.cli import build_parser as reid_parser
from reid_lib.engine.config import from_dict, load_config
from reid_lib.reports.records import load_result_files
from reid_lib.reports.rerun import (
    WHERE_FILES_GO,
    _numbers,
    committed_runs,
    config_overrides,
    rerun_command,
    track_summary,
)
from tests.result_files import result_dict
from tools.sweep import build_parser as sweep_parser

COMMITTED_FILES = load_result_files(COMMITTED) if Path(COMMITTED).is_dir() else []


def config_of(command: str) -> dict:
    """The config that a ``reid train`` command line would train under."""
    argv = shlex.split(command)
    assert argv[:2] == ["reid", "train"]
    args = reid_parser().parse_args(argv[1:])
    return load_config(args.config, args.overrides).to_dict()


@pytest.mark.skipif(not COMMITTED_FILES, reason="no committed results file in results/")
@pytest.mark.parametrize("data", COMMITTED_FILES, ids=lambda d: d["run"]["name"])
def test_a_committed_file_re_runs_under_its_own_config(data: dict) -> None:
    command, run = rerun_command(data), data["run"]
    if run["knob"] is not None or run["train_set"] != data["dataset"]["name"]:
        # An evaluation of a trained run elsewhere: the sweep step that writes it.
        args = sweep_parser().parse_args(shlex.split(command)[3:])
        step = "knobs" if run["knob"] is not None else "transfer"
        step = "joint" if run["train_set"] == "joint" else step
        assert (args.command, args.profile, args.rows) == (step, run["profile"], [run["row"]])
        assert run["seed"] in args.seeds
        if step == "joint":
            assert data["dataset"]["split"] in args.splits
        if step == "knobs" and run["knob"] != "none":
            assert args.knobs == run["knob"].split("+")
        if step == "transfer":
            assert (args.train, args.test) == (run["train_set"], [data["dataset"]["name"]])
        return
    # A key added to the config after the file was written holds its default there; where the
    # files went is the re-runner's choice.
    stored = from_dict(data["provenance"]["config"]).to_dict()
    rerun = config_of(command)
    for section, key in WHERE_FILES_GO:
        stored[section].pop(key), rerun[section].pop(key)
    assert rerun == stored
    assert not any(f"{s}.{k}=" in command for s, k in WHERE_FILES_GO)
    # The command names the file it writes: the same profile, dataset and run name.
    assert f"run.name={data['run']['name']}" in shlex.split(command)


def test_the_preset_itself_needs_no_override() -> None:
    assert config_overrides("cpu", load_config("cpu").to_dict()) == []


@pytest.mark.parametrize(
    "overrides",
    [
        ["run.name=007"],  # text that YAML would read as a number
        ["run.name=true"],  # text that YAML would read as a boolean
        ["schedule.milestones=[3,5]"],
        ["data.dataset=synthetic", "data.synthetic_knobs={occlusion: 1.0}"],
        ["data.dataset=viper", "data.root=peta-reid/VIPeR", "data.split=3", "model.wdp=false"],
        ["optim.lr=0.00012", "model.pretrained=null"],
    ],
)
def test_overrides_read_back_as_the_same_config(overrides: list[str]) -> None:
    config = load_config("cpu", overrides).to_dict()
    command = shlex.join(["reid", "train", "--config", "cpu", *config_overrides("cpu", config)])
    assert config_of(command) == config


def evaluation_file(**fields) -> dict:
    """A results file of the full model (seed 2 unless given) with the cpu preset's config."""
    data = result_dict("r", profile="cpu", rank1=0.5, **{"seed": 2, "row": "full", **fields})
    data["provenance"]["config"] = load_config("cpu").to_dict()
    return data


def test_a_transfer_re_runs_through_the_sweep() -> None:
    data = evaluation_file(dataset="viper", train_set="synthetic", split=3)
    argv = shlex.split(rerun_command(data))
    assert argv[:3] == ["python", "-m", "tools.sweep"]
    args = sweep_parser().parse_args(argv[3:])
    assert (args.command, args.profile, args.rows, args.seeds) == ("transfer", "cpu", ["full"], [2])
    assert (args.train, args.test, args.splits) == ("synthetic", ["viper"], None)
    from_viper = evaluation_file(dataset="grid", train_set="viper", split=3)
    args = sweep_parser().parse_args(shlex.split(rerun_command(from_viper))[3:])
    assert (args.train, args.test, args.splits) == ("viper", ["grid"], [3])


def test_a_joint_run_re_runs_with_its_sets() -> None:
    data = evaluation_file(dataset="grid", train_set="joint", split=1)
    data["provenance"]["config"]["data"]["joint_sets"] = ["viper", "grid"]
    args = sweep_parser().parse_args(shlex.split(rerun_command(data))[3:])
    assert (args.command, args.sets, args.splits) == ("joint", ["viper", "grid"], [1])


def test_a_knob_test_re_runs_with_its_knob_and_level() -> None:
    data = evaluation_file(dataset="synthetic", knob="occlusion")
    data["provenance"]["config"]["data"]["synthetic_knobs"] = {"occlusion": 0.5}
    args = sweep_parser().parse_args(shlex.split(rerun_command(data))[3:])
    assert (args.command, args.knobs, args.level) == ("knobs", ["occlusion"], 0.5)
    assert args.splits is None  # the synthetic set has no protocol splits
    off = evaluation_file(dataset="synthetic", knob="none")
    off["provenance"]["config"]["data"]["synthetic_knobs"] = dict.fromkeys(("occlusion",), 0.0)
    args = sweep_parser().parse_args(shlex.split(rerun_command(off))[3:])
    assert (args.command, args.knobs, args.level) == ("knobs", None, 1.0), "all off: any knobs run"


def test_synthetic_runs_are_listed_without_splits() -> None:
    table = committed_runs([evaluation_file(dataset="synthetic", seed=s) for s in (0, 1, 2)])
    line = table.iloc[0]
    assert (line["splits"], line["seeds"]) == ("-", "0-2")
    args = sweep_parser().parse_args(shlex.split(line["re-run"])[3:])
    assert (args.dataset, args.seeds, args.splits) == ("synthetic", [0, 1, 2], None)


def test_numbers_are_shown_as_spans() -> None:
    assert _numbers([4, 0, 1, 2, 3, 7, 3]) == "0-4, 7"
    assert _numbers([]) == "-"


def test_committed_runs_groups_splits_of_one_row() -> None:
    files = [
        evaluation_file(dataset="viper", train_set="viper", split=split) for split in (0, 1, 4)
    ]
    files.append(evaluation_file(dataset="grid", train_set="grid", split=0))
    for data in files:
        data["provenance"]["wall_time_s"] = 1800.0
    table = committed_runs(files)
    assert list(table["test set"]) == ["grid", "viper"]
    viper = table.iloc[1]
    assert (viper["splits"], viper["seeds"], viper["runs"], viper["hours"]) == (
        "0-1, 4",
        "2",
        3,
        1.5,
    )
    assert viper["backbone"] == "-"
    assert "comparison models" in viper["studies"]
    args = sweep_parser().parse_args(shlex.split(viper["re-run"])[3:])
    assert (args.command, args.dataset, args.rows, args.splits) == (
        "run",
        "viper",
        ["full"],
        [0, 1, 4],
    )


def test_track_summary_adds_up_each_profile() -> None:
    files = [evaluation_file(dataset="viper", train_set="viper", split=s) for s in (0, 1)]
    files += [evaluation_file(dataset="grid", train_set="grid", row="pcb")]
    for data in files:
        data["provenance"]["wall_time_s"] = 360.0
        data["run"]["pretraining"] = "peta-resnet18 sha256:e846cdf402e7"
    files.append(evaluation_file(dataset="viper", train_set="viper", row="colour-histogram"))
    summary = track_summary(committed_runs(files))
    assert summary.to_dict("records") == [
        {
            "profile": "cpu",
            "test sets": "grid, viper",
            "rows": 3,
            "runs": 4,
            "backbone": "peta-resnet18 e846cdf402e7",
            "hours": pytest.approx(0.3 + 1 / 3600),
        }
    ]


def test_the_sweep_command_builder_quotes_and_orders_its_arguments():
    from reid_lib.studies.sweep_command import sweep_command

    assert sweep_command("run", profile="cpu", rows=["full"], seeds=[1, 2], dataset="viper") == (
        "python -m tools.sweep run --profile cpu --dataset viper --rows full --seeds 1 2"
    )
    line = sweep_command(
        "joint", profile="cpu", rows=["a b"], seeds=[0], splits=[0, 1], extra=["--sets", "grid"]
    )
    assert line == (
        "python -m tools.sweep joint --profile cpu --rows 'a b' --seeds 0 --splits 0 1 --sets grid"
    )
