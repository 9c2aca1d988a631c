"""``tools.reproduce``: a committed run trained again here and compared with its file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reid_lib.cli import main as reid_main
from reid_lib.engine.machine import numerics_fingerprint
from tests.result_files import result_dict
from tools.reproduce import fingerprints, main, reproduced_config


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
    assert "r: trained; results in" in out and "reproduced exactly (largest difference 0.00)" in out
    assert f"numerics fingerprint of this machine: {numerics_fingerprint()}" in out
    assert f"the machine that trained the committed run: {numerics_fingerprint()}" in out

    data = json.loads(path.read_text())
    data["metrics"]["single_query"]["mAP"] -= 0.01
    path.write_text(json.dumps(data))
    assert main([str(path), *again]) == 1, "the re-run's file is read again, not retrained"
    out = capsys.readouterr().out
    assert (
        "r: skipped:" in out and "not reproduced: over 0.5 points (largest difference 1.00)" in out
    )

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


def _files(tmp_path: Path, rerun: dict) -> tuple[Path, Path]:
    """A committed file at ``<tmp>/results/cpu/viper/a.json`` and ``rerun`` beside it."""
    committed = result_dict("a", profile="cpu", dataset="viper", rank1=0.5, row="full")
    path = tmp_path / "results" / "cpu" / "viper" / "a.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(committed))
    (tmp_path / "rerun.json").write_text(json.dumps(rerun))
    return path, tmp_path / "rerun.json"


def test_a_rerun_made_elsewhere_is_compared_and_recorded(tmp_path, capsys):
    rerun = result_dict("cpu", profile="cpu", dataset="viper", rank1=0.504)
    rerun["provenance"]["numerics"] = "feedfacecafe"
    path, rerun_path = _files(tmp_path, rerun)
    assert main([str(path), "--rerun", str(rerun_path), "--record"]) == 0
    out = capsys.readouterr().out
    assert "reproduced within 0.5 points (largest difference 0.40)" in out
    record = tmp_path / "results" / "reproductions" / "cpu-viper-a-on-feedfacecafe.json"
    assert f"reproduction record: {record}" in out
    assert json.loads(record.read_text())["rerun"] == rerun
    assert not (tmp_path / "runs").exists(), "nothing trained"


def test_a_rerun_of_another_run_is_refused_with_each_key_named(tmp_path, capsys):
    rerun = result_dict("cpu", profile="cpu", dataset="viper", rank1=0.5, seed=2, split=1)
    rerun["provenance"]["config"] = {"model": {"num_parts": 6}}
    path, rerun_path = _files(tmp_path, rerun)
    assert main([str(path), "--rerun", str(rerun_path), "--record"]) == 2
    err = capsys.readouterr().err
    assert "rerun.json is another run than" in err
    for key in ("run.seed: committed 0, re-run 2", "dataset.split", "model.num_parts"):
        assert key in err
    assert not (tmp_path / "results" / "reproductions").exists()
