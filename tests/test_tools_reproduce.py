"""``tools.reproduce``: a committed run trained again here and compared with its file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reid_lib.cli import main as reid_main
from reid_lib.engine.machine import numerics_fingerprint
from tests.result_files import result_dict
from tools.reproduce import compare_metrics, fingerprints, main, reproduced_config, verdict


def _with(data: dict, **single_query: float) -> dict:
    changed = json.loads(json.dumps(data))
    changed["metrics"]["single_query"].update(single_query)
    return changed


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
    ("rank1", "ok", "words"),
    [
        (0.5, True, "reproduced exactly"),
        (0.504, True, "within 0.5 points (largest difference 0.40)"),
        (0.49, False, "not reproduced: a difference of 1.00 points"),
    ],
)
def test_the_verdict_reads_the_largest_difference(rank1, ok, words):
    committed = result_dict("a", profile="cpu", dataset="viper", rank1=0.5)
    reproduced, line = verdict(compare_metrics(committed, _with(committed, rank1=rank1)), 0.5)
    assert reproduced is ok and words in line


def test_files_with_no_variant_in_common_are_not_called_reproduced():
    committed = result_dict("a", profile="cpu", dataset="viper", rank1=0.5)
    other = json.loads(json.dumps(committed))
    other["metrics"] = {"train_split": other["metrics"].pop("single_query")}
    assert verdict(compare_metrics(committed, other), 0.5) == (
        False,
        "the two files share no variant: nothing to compare",
    )


def test_an_evaluation_on_another_set_is_sent_to_its_sweep_command(tmp_path):
    transfer = result_dict("a", profile="cpu", dataset="grid", rank1=0.5, train_set="viper")
    with pytest.raises(ValueError, match=r"trained on viper and was tested on grid.*tools\.sweep"):
        reproduced_config(transfer, tmp_path / "runs", tmp_path / "results")


def test_the_stored_config_is_trained_with_files_going_elsewhere(tmp_path):
    data = result_dict("a", profile="cpu", dataset="viper", rank1=0.5)
    data["provenance"]["config"] = {"run": {"name": "a", "seed": 3}, "model": {"num_parts": 4}}
    cfg = reproduced_config(data, tmp_path / "runs", tmp_path / "results")
    assert (cfg.run.name, cfg.run.seed, cfg.model.num_parts) == ("a", 3, 4)
    assert (cfg.run.output_dir, cfg.run.results_dir) == (
        str(tmp_path / "runs"),
        str(tmp_path / "results"),
    )


@pytest.mark.slow
def test_a_smoke_run_is_reproduced_exactly_then_a_changed_file_is_not(tmp_path, capsys):
    committed = tmp_path / "committed"
    common = [f"run.output_dir={tmp_path / 'runs'}", f"run.results_dir={committed}", "run.name=r"]
    assert reid_main(["train", "--config", "smoke", *common]) == 0
    path = committed / "smoke" / "synthetic" / "r.json"
    again = ["--runs-dir", str(tmp_path / "again"), "--results-dir", str(tmp_path / "again-res")]
    capsys.readouterr()
    assert main([str(path), *again]) == 0
    out = capsys.readouterr().out
    assert "r: trained; results in" in out and "reproduced exactly" in out
    assert f"numerics fingerprint of this machine: {numerics_fingerprint()}" in out
    assert f"the machine that trained the committed run: {numerics_fingerprint()}" in out

    data = json.loads(path.read_text())
    data["metrics"]["single_query"]["mAP"] -= 0.01
    path.write_text(json.dumps(data))
    assert main([str(path), *again]) == 1, "the re-run's file is read again, not retrained"
    out = capsys.readouterr().out
    assert "r: skipped:" in out and "not reproduced: a difference of 1.00 points" in out

    assert main([str(path), "--results-dir", str(committed)]) == 2
    assert "would write the re-run over" in capsys.readouterr().err


def test_a_file_that_is_not_a_results_file_is_named(tmp_path, capsys):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"schema_version": 2}))
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "results field" in err
    assert main([str(Path(tmp_path) / "absent.json")]) == 2
    assert "absent.json" in capsys.readouterr().err


def test_the_backbone_fingerprint_is_read_from_its_pretraining_record(tmp_path):
    data = result_dict("a", profile="cpu", dataset="viper", rank1=0.5)
    data["run"]["pretraining"] = "peta-resnet18 sha256:0123456789ab"
    data["provenance"]["numerics"] = "aaaaaaaaaaaa"
    (tmp_path / "peta-resnet18-0123456789ab.json").write_text('{"numerics": "feedfacecafe"}')
    assert fingerprints(data, tmp_path) == {
        "this machine": numerics_fingerprint(),
        "the machine that trained the committed run": "aaaaaaaaaaaa",
        "the machine that pretrained its backbone": "feedfacecafe",
    }
    (tmp_path / "peta-resnet18-0123456789ab.json").unlink()
    del data["provenance"]["numerics"]
    assert set(fingerprints(data, tmp_path).values()) - {numerics_fingerprint()} == {"not recorded"}
