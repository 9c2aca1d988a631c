"""``reid_lib.reports.reproductions``: committed files trained again, compared and recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reid_lib.reports.reproductions import (
    COLUMNS,
    compare_metrics,
    read_record,
    reproduction_verdict,
    reproductions_table,
    run_mismatches,
    write_record,
)
from tests.result_files import result_dict


def _with(data: dict, **single_query: float) -> dict:
    changed = json.loads(json.dumps(data))
    changed["metrics"]["single_query"].update(single_query)
    return changed


def _committed(root: Path, **metrics: float) -> tuple[Path, dict]:
    data = result_dict("full-split0-seed1", profile="cpu", dataset="viper", row="full", **metrics)
    data["provenance"]["numerics"] = "aaaaaaaaaaaa"
    path = root / "cpu" / "viper" / "full-split0-seed1.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path, data


def _rerun(committed: dict, numerics: str | None, **single_query: float) -> dict:
    rerun = _with(committed, **single_query)
    rerun["run"].update(name="cpu", row=None)
    rerun["provenance"]["numerics"] = numerics
    rerun["provenance"]["git_commit"] = "fedcba9876" + "0" * 30
    return rerun


def test_each_shared_metric_is_set_beside_the_committed_one_in_points():
    committed = result_dict("a", profile="cpu", dataset="viper", rank1=0.5, mAP=0.25)
    rerun = _with(committed, rank1=0.504, mAP=0.2)
    del rerun["metrics"]["multi_query"]
    table = compare_metrics(committed, rerun).set_index(["variant", "metric"])
    assert len(table) == 6, "single_query only: the variant both files hold"
    assert table.loc[("single_query", "rank1"), "difference"] == pytest.approx(0.4)
    assert table.loc[("single_query", "mAP"), "re-run"] == pytest.approx(20.0)
    assert table.loc[("single_query", "mAP"), "difference"] == pytest.approx(-5.0)
    assert table.loc[("single_query", "rank5"), "difference"] == 0


@pytest.mark.parametrize(
    ("rank1", "ok", "said"),
    [
        (0.5, True, "reproduced exactly"),
        (0.504, True, "reproduced within 0.5 points"),
        (0.49, False, "not reproduced: over 0.5 points"),
    ],
)
def test_the_verdict_reads_the_largest_difference(rank1, ok, said):
    committed = result_dict("a", profile="cpu", dataset="viper", rank1=0.5)
    table = compare_metrics(committed, _with(committed, rank1=rank1))
    assert reproduction_verdict(table, 0.5) == (ok, said)


def test_files_with_no_variant_in_common_are_not_called_reproduced():
    committed = result_dict("a", profile="cpu", dataset="viper", rank1=0.5)
    other = json.loads(json.dumps(committed))
    other["metrics"] = {"train_split": other["metrics"].pop("single_query")}
    assert reproduction_verdict(compare_metrics(committed, other)) == (
        False,
        "nothing to compare: the files share no variant",
    )


def test_one_run_trained_twice_may_differ_in_name_row_folders_and_progress_only():
    committed = result_dict("a", profile="cpu", dataset="viper", rank1=0.5, row="full")
    committed["provenance"]["config"] = {
        "run": {"name": "a", "seed": 1, "output_dir": "runs", "progress": True},
        "model": {"num_parts": 4},
    }
    same = json.loads(json.dumps(committed))
    same["run"].update(name="cpu", row=None)
    same["provenance"]["config"]["run"].update(name="cpu", output_dir="/x", progress=False)
    assert run_mismatches(committed, same) == []

    other = json.loads(json.dumps(same))
    other["dataset"]["manifest_sha256"] = "cd" * 32
    other["run"]["pretraining"] = "peta-resnet18 sha256:0123456789ab"
    other["provenance"]["config"]["run"]["seed"] = 2
    other["provenance"]["config"]["model"]["num_parts"] = 6
    assert run_mismatches(committed, other) == [
        "run.pretraining: committed None, re-run 'peta-resnet18 sha256:0123456789ab'",
        f"dataset.manifest_sha256: committed {'ab' * 32!r}, re-run {'cd' * 32!r}",
        "model.num_parts: committed 4, re-run 6",
        "run.seed: committed 1, re-run 2",
    ]


def test_a_record_holds_the_committed_files_place_and_checksum_and_the_whole_rerun(tmp_path):
    path, committed = _committed(tmp_path, rank1=0.5)
    rerun = _rerun(committed, "bbbbbbbbbbbb", rank1=0.53)
    written = write_record(tmp_path, path, committed, rerun)
    assert (
        written == tmp_path / "reproductions" / "cpu-viper-full-split0-seed1-on-bbbbbbbbbbbb.json"
    )
    record = read_record(written)
    assert record["committed"] == "cpu/viper/full-split0-seed1.json"
    assert len(record["committed_sha256"]) == 64 and record["rerun"] == rerun

    rerun["provenance"]["numerics"] = None
    assert write_record(tmp_path, path, committed, rerun).name.endswith("-on-unknown.json")
    (line,) = (
        reproductions_table(tmp_path).query("`re-run on` == 'not recorded'").to_dict("records")
    )
    assert line["same numerics"] == "unknown"
    other = _rerun(committed, "cccccccccccc")
    other["dataset"]["split"] = 3
    with pytest.raises(
        ValueError, match=r"another run than .*dataset\.split: committed 0, re-run 3"
    ):
        write_record(tmp_path, path, committed, other)


def test_the_table_sets_each_rerun_beside_its_committed_file_with_both_machines(tmp_path):
    path, committed = _committed(tmp_path, rank1=0.5, mAP=0.25)
    write_record(tmp_path, path, committed, _rerun(committed, "aaaaaaaaaaaa"))
    write_record(tmp_path, path, committed, _rerun(committed, "bbbbbbbbbbbb", rank1=0.522))
    table = reproductions_table(tmp_path)
    assert list(table.columns) == COLUMNS
    same, other = table.to_dict("records")
    assert (same["trained on"], same["re-run on"], same["verdict"]) == (
        "aaaaaaaaaaaa",
        "aaaaaaaaaaaa",
        "reproduced exactly",
    )
    assert (same["same numerics"], other["same numerics"]) == ("yes", "no")
    assert same["re-run commit"] == "fedcba9876"
    assert (other["rank1 committed"], other["mAP re-run"]) == (50.0, 25.0)
    assert other["rank1 re-run"] == pytest.approx(52.2)
    assert other["largest difference"] == pytest.approx(2.2)
    assert other["verdict"] == "not reproduced: over 0.5 points"


def test_a_record_whose_committed_file_changed_or_went_gives_no_verdict(tmp_path):
    path, committed = _committed(tmp_path, rank1=0.5)
    write_record(tmp_path, path, committed, _rerun(committed, "bbbbbbbbbbbb"))
    _committed(tmp_path, rank1=0.6)
    (line,) = reproductions_table(tmp_path).to_dict("records")
    assert line["verdict"] == "the committed file has changed since"
    assert line["largest difference"] != line["largest difference"], "no number: NaN"
    path.unlink()
    assert reproductions_table(tmp_path)["verdict"].tolist() == ["the committed file is gone"]


def test_no_record_no_line_and_a_broken_record_is_named(tmp_path):
    assert reproductions_table(tmp_path).empty
    broken = tmp_path / "reproductions" / "x.json"
    broken.parent.mkdir()
    broken.write_text(json.dumps({"schema_version": 1, "committed": "a.json"}))
    with pytest.raises(ValueError, match=r"x\.json: no committed_sha256, rerun"):
        reproductions_table(tmp_path)
    broken.write_text(
        json.dumps({"schema_version": 1, "committed": "a", "committed_sha256": "0", "rerun": {}})
    )
    with pytest.raises(ValueError, match=r"reproduction record .*x\.json: rerun: "):
        read_record(broken)
