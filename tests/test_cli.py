"""The ``reid`` command: help, routing, error paths, and a smoke run from training to evaluation."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from reid_lib.cli import main
from reid_lib.engine import ConfigError, evaluation, from_dict, load_checkpoint
from reid_lib.engine.experiment import trained_model
from reid_lib.engine.results import validate_results
from reid_lib.metrics import re_ranking_features
from reid_lib.models.activation_maps import activation_maps


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("train", "eval", "synth", "data"):
        assert f"    {command}" in out


@pytest.mark.parametrize(
    ("argv", "module_usage"),
    [
        (["synth", "--help"], "make_synthetic"),
        (["data", "verify", "--help"], "--dataset"),
    ],
)
def test_synth_and_verify_route_to_the_data_tools(argv, module_usage, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    assert module_usage in capsys.readouterr().out


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["optim.lrr=0.1"], "did you mean 'optim.lr'"),
        (["run.seed=abc"], "config key 'run.seed'"),
    ],
)
def test_config_errors_exit_2_with_the_message(overrides, message, capsys):
    assert main(["train", "--config", "smoke", *overrides]) == 2
    assert message in capsys.readouterr().err


def test_unknown_preset(capsys):
    assert main(["train", "--config", "smok"]) == 2
    assert "did you mean 'smoke'" in capsys.readouterr().err


def test_missing_dataset_path_fails_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("REID_DATA_ROOT", raising=False)
    missing = tmp_path / "no-such-folder"
    argv = [
        "train",
        "--config",
        "smoke",
        "data.dataset=viper",
        f"data.root={missing}",
        f"run.output_dir={tmp_path / 'runs'}",
    ]
    assert main(argv) == 2
    assert str(missing) in capsys.readouterr().err
    assert not (tmp_path / "runs").exists(), "nothing may be written before the data is found"


def test_eval_refuses_a_malicious_checkpoint(tmp_path, capsys):
    class RunsCode:
        def __reduce__(self):
            return (print, ("this must never print",))

    path = tmp_path / "evil.pt"
    torch.save({"model": {}, "x": RunsCode()}, path)
    assert main(["eval", "--checkpoint", str(path)]) == 2
    captured = capsys.readouterr()
    assert "was refused" in captured.err and "must never print" not in captured.out


@pytest.mark.slow
def test_smoke_train_resume_and_eval(tmp_path, capsys, monkeypatch):
    """``reid train --config smoke``, then ``--resume`` for one more epoch, then ``reid eval``."""
    common = [f"run.output_dir={tmp_path / 'runs'}", f"run.results_dir={tmp_path / 'results'}"]
    assert main(["train", "--config", "smoke", *common]) == 0
    run_dir = tmp_path / "runs" / "smoke" / "synthetic" / "smoke"
    results = tmp_path / "results" / "smoke" / "synthetic" / "smoke.json"
    first = json.loads(results.read_text())
    validate_results(first)
    assert first["epoch"] == 1 and first["provenance"]["config"]["run"]["profile"] == "smoke"

    resume = [
        "train",
        "--config",
        str(run_dir / "config.yaml"),
        "--resume",
        str(run_dir / "last.pt"),
    ]
    assert main([*resume, "schedule.epochs=2"]) == 0
    first_after_resume = json.loads(results.read_text())
    assert first_after_resume["epoch"] == 2
    capsys.readouterr()
    assert main([*resume, "schedule.epochs=2"]) == 0, "a finished run resumed"
    assert "had already trained all 2 epochs: nothing was trained or evaluated" in (
        capsys.readouterr().out
    )

    asked = []

    def recording(*args, **kwargs):
        asked.append({k: kwargs[k] for k in ("k1", "k2", "lambda_value")})
        return re_ranking_features(*args, **kwargs)

    monkeypatch.setattr(evaluation, "re_ranking_features", recording)
    last = str(run_dir / "last.pt")
    out = ["--results-dir", str(tmp_path / "results")]
    assert main(["eval", "--checkpoint", last, "--rerank", *out, "eval.rerank_k1=5"]) == 0
    assert asked == [{"k1": 5, "k2": 6, "lambda_value": 0.3}], "config keys reach re-ranking"
    data = json.loads(results.read_text())
    validate_results(data)
    assert set(data["metrics"]) == {"single_query", "single_query_rerank"}
    assert data["metrics"]["single_query"] == first_after_resume["metrics"]["single_query"]
    trained_here = first_after_resume["provenance"]["numerics"]
    assert trained_here and data["provenance"]["numerics"] == trained_here, "the trainer's, kept"
    assert "results:" in capsys.readouterr().out

    # reid eval replaces the run's own file only to add variants to the same numbers.
    before = results.read_text()
    assert main(["eval", "--checkpoint", last, *out]) == 2
    assert "variants ['single_query_rerank'] would be dropped" in capsys.readouterr().err
    tampered = json.loads(before)
    tampered["metrics"]["single_query"]["mAP"] /= 2
    results.write_text(json.dumps(tampered))
    assert main(["eval", "--checkpoint", last, "--rerank", *out, "eval.rerank_k1=5"]) == 2
    err = capsys.readouterr().err
    assert str(results) in err and "the numbers of ['single_query'] would change" in err
    assert json.loads(results.read_text()) == tampered, "a refused evaluation writes nothing"
    results.write_text(before)

    wrong = [
        "train",
        "--config",
        "smoke",
        *common,
        "model.num_parts=4",
        "--resume",
        str(run_dir / "last.pt"),
    ]
    assert main(wrong) == 2
    assert "model.num_parts: checkpoint 3, config 4" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["resnet_global", "pcb", "hpm"])
def test_each_comparison_model_trains_evaluates_and_shows_its_maps(tmp_path, arch):
    """``reid train --config smoke model.arch=...``, ``reid eval``, and its activation maps."""
    common = [f"run.output_dir={tmp_path / 'runs'}", f"run.results_dir={tmp_path / 'results'}"]
    assert main(["train", "--config", "smoke", f"model.arch={arch}", "run.name=m", *common]) == 0
    results = tmp_path / "results" / "smoke" / "synthetic" / "m.json"
    data = json.loads(results.read_text())
    validate_results(data)
    assert data["provenance"]["config"]["model"]["arch"] == arch
    checkpoint = tmp_path / "runs" / "smoke" / "synthetic" / "m" / "last.pt"
    out = ["--results-dir", str(tmp_path / "results")]
    assert main(["eval", "--checkpoint", str(checkpoint), "--rerank", *out]) == 0
    assert set(json.loads(results.read_text())["metrics"]) == {
        "single_query",
        "single_query_rerank",
    }
    state = load_checkpoint(checkpoint)
    cfg = from_dict(state["config"])
    model = trained_model(state)
    maps = activation_maps(model, torch.randn(2, 3, cfg.data.height, cfg.data.width))
    assert [m.shape[0] for m in maps.values()] == [2, 2, 2]


@pytest.mark.slow
def test_eval_writes_where_the_command_says_never_where_the_checkpoint_says(tmp_path, capsys):
    """A downloaded checkpoint cannot choose the files that ``reid eval`` writes."""
    common = [f"run.output_dir={tmp_path / 'runs'}", f"run.results_dir={tmp_path / 'theirs'}"]
    assert main(["train", "--config", "smoke", "run.name=m", *common]) == 0
    checkpoint = tmp_path / "runs" / "smoke" / "synthetic" / "m" / "last.pt"
    ours = tmp_path / "ours"
    shutil.rmtree(tmp_path / "runs" / "data")  # the test set must be generated again
    eval_args = ["eval", "--checkpoint", str(checkpoint), "--results-dir", str(ours)]
    assert main([*eval_args, "--runs-dir", str(tmp_path / "our-runs")]) == 0
    assert (ours / "smoke" / "synthetic" / "m.json").is_file()
    assert (tmp_path / "our-runs" / "data").is_dir() and not (tmp_path / "runs" / "data").exists()
    state = load_checkpoint(checkpoint)
    state["config"]["run"]["name"] = "../../escaped"
    torch.save(state, checkpoint)
    assert main([*eval_args, "--runs-dir", str(tmp_path / "our-runs")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "run.name='../../escaped': expected one folder name" in err[0]
    assert not (tmp_path / "escaped.json").exists()


def test_bad_input_is_one_line_and_debug_shows_the_traceback(capsys):
    assert main(["train", "--config", "smoke", "schedule.gamma=-1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["reid train: error: override: schedule.gamma=-1.0: expected a finite number > 0"]
    with pytest.raises(ConfigError, match=r"schedule\.gamma"):
        main(["train", "--config", "smoke", "--debug", "schedule.gamma=-1"])


@pytest.mark.slow
def test_eval_turns_off_what_only_shaped_training_batches(tmp_path):
    """A joint run trained on batches from one set is tested on one set: the evaluation draws no
    training batch, so its config's sampler.one_set_per_batch (joint sets only) is turned off."""
    common = [f"run.output_dir={tmp_path / 'runs'}", f"run.results_dir={tmp_path / 'results'}"]
    assert main(["train", "--config", "smoke", "run.name=m", "schedule.epochs=1", *common]) == 0
    checkpoint = tmp_path / "runs" / "smoke" / "synthetic" / "m" / "last.pt"
    state = load_checkpoint(checkpoint)
    state["config"]["data"]["dataset"] = "joint"  # as a joint run's checkpoint says
    state["config"]["sampler"]["one_set_per_batch"] = True
    torch.save(state, checkpoint)
    ours = tmp_path / "ours"
    eval_args = ["eval", "--checkpoint", str(checkpoint), "--results-dir", str(ours)]
    assert main([*eval_args, "--runs-dir", str(tmp_path / "runs"), "data.dataset=synthetic"]) == 0
    data = json.loads((ours / "smoke" / "synthetic" / "m.json").read_text())
    assert data["run"]["train_set"] == "joint"
    assert data["provenance"]["config"]["sampler"]["one_set_per_batch"] is False
