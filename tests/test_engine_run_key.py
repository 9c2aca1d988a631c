"""One run key: read from a results file, written into one, and every name derived from it."""

from __future__ import annotations

from reid_lib.engine.run_key import FIELDS, RunKey
from reid_lib.reports.records import IDENTITY
from reid_lib.studies.sweep import PlannedRun
from tests.result_files import result_dict

KEY = RunKey(
    profile="cpu",
    dataset="viper",
    train_set="viper",
    row="full",
    seed=1,
    split=3,
    knob=None,
    pretraining="peta-resnet18 sha256:e846cdf402e7",
)


def test_a_key_reads_back_from_what_it_writes() -> None:
    run, dataset = KEY.written()
    assert RunKey.of({"run": {"name": "x", **run}, "dataset": dataset}) == KEY
    assert list(KEY.fields()) == list(FIELDS) == list(IDENTITY)


def test_the_key_of_a_results_file() -> None:
    data = result_dict("n", profile="smoke", dataset="grid", rank1=0.5, seed=4, row="nl", split=2)
    assert RunKey.of(data).fields() == {
        "profile": "smoke",
        "dataset": "grid",
        "train_set": "grid",
        "row": "nl",
        "seed": 4,
        "split": 2,
        "knob": None,
        "pretraining": None,
    }


def test_names_derive_from_the_key() -> None:
    assert KEY.glue_name("ignored") == "cpu.viper.full.seed1.split3"
    transfer = RunKey(**{**KEY.fields(), "train_set": "synthetic", "split": 0, "knob": "occlusion"})
    assert transfer.glue_name("x") == "cpu.viper.from-synthetic.knob-occlusion.full.seed1"
    assert (
        RunKey(**{**KEY.fields(), "row": None}).glue_name("mine")
        == "cpu.viper.run-mine.seed1.split3"
    )
    assert RunKey.run_name("full", 1, 3) == PlannedRun("full", 1, (), 3).name == "full-split3-seed1"
    assert RunKey.run_name("full", 0, None) == "full-seed0"
