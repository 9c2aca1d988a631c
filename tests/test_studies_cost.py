"""The sweep's cost: wall times of the runs already made, by row and dataset."""

from __future__ import annotations

import pytest

from reid_lib.engine.results import write_results
from reid_lib.studies.cost import estimate_seconds, run_seconds
from tests.result_files import result_dict


def write(root, name, row, seconds, *, profile="cpu", dataset="viper", knob=None):
    data = result_dict(name, profile=profile, dataset=dataset, rank1=0.3, row=row, knob=knob)
    data["provenance"]["wall_time_s"] = float(seconds)
    write_results(data, root)


def test_runs_are_timed_by_the_median_of_their_row_else_of_their_dataset(tmp_path):
    write(tmp_path, "a", "full", 100)
    write(tmp_path, "b", "full", 300)
    write(tmp_path, "c", "full", 200)
    write(tmp_path, "d", "baseline", 50)
    write(tmp_path, "e", "full", 9999, profile="smoke")  # another profile
    archived = tmp_path / "archive" / "old"
    write(archived, "f", "nl", 400)  # archived runs time their row as well
    (tmp_path / "notes.json").write_text('{"not": "a results file"}')
    timings = run_seconds(tmp_path, "cpu")
    assert estimate_seconds(timings, "viper", "full") == 200
    assert estimate_seconds(timings, "viper", "nl") == 400
    assert estimate_seconds(timings, "viper", "pcb") == pytest.approx(200), "median of 5 runs"
    assert estimate_seconds(timings, "grid", "full") is None


def test_a_joint_run_is_timed_by_its_files_and_a_transfer_or_knob_file_times_nothing(tmp_path):
    for dataset, seconds in (("viper", 600), ("grid", 620)):  # one joint run tested on two sets
        data = result_dict(f"joint-{dataset}", profile="cpu", dataset=dataset, rank1=0.3)
        data["run"].update(row="baseline", train_set="joint")
        data["provenance"]["wall_time_s"] = float(seconds)
        write_results(data, tmp_path)
    transfer = result_dict("from-synthetic", profile="cpu", dataset="grid", rank1=0.3)
    transfer["run"].update(row="baseline", train_set="synthetic")
    write_results(transfer, tmp_path)
    write(tmp_path, "k", "baseline", 5, dataset="synthetic", knob="occlusion")
    timings = run_seconds(tmp_path, "cpu")
    assert estimate_seconds(timings, "joint", "baseline") == 610
    assert estimate_seconds(timings, "grid", "baseline") is None, "grid's own runs: none"
    assert estimate_seconds(timings, "synthetic", "baseline") is None
