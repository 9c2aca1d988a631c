"""The papermill runner: parameters reach the chapters, failures name the chapter and the cell."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tools import run_book as run

PARAMETERS = 'profile = "auto"\nresults_dir = None\nseed = 0'


def write_notebook(path: Path, *sources: str) -> Path:
    nb = new_notebook(
        cells=[new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]})]
        + [new_code_cell(s) for s in sources],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(nb, path)
    return path


WRITE_RESULTS = (
    "import json, pathlib\n"
    "out = pathlib.Path(results_dir) / 'good.json'\n"
    "out.write_text(json.dumps({'numbers': {'profile': profile, 'seed': seed}}))"
)


def test_runner_collects_results_and_names_failing_chapter_and_cell(tmp_path, capsys):
    good = write_notebook(tmp_path / "good.ipynb", WRITE_RESULTS)
    bad = write_notebook(tmp_path / "bad.ipynb", "x = 1", "x / 0")
    silent = write_notebook(tmp_path / "silent.ipynb", "x = 1")
    executed, results = tmp_path / "executed", tmp_path / "results"

    rc = run.main(
        [
            "--profile", "cpu",
            "--chapters", str(good), str(bad), str(silent),
            "-p", "seed", "7",
            "--output-dir", str(executed),
            "--results-dir", str(results),
        ]
    )  # fmt: skip

    assert rc == 1
    err = capsys.readouterr().err
    assert "chapter 'bad' failed in cell 3" in err  # 0: parameters, 1: injected, 2: x = 1
    assert "ZeroDivisionError" in err
    assert "chapter 'silent' ran but did not write its results file" in err
    assert "'good'" not in err
    summary = json.loads((executed / "run.json").read_text())
    assert summary["chapters"]["good"]["results"]["numbers"] == {"profile": "cpu", "seed": 7}
    assert summary["chapters"]["bad"]["results"] is None
    assert (executed / "book" / "bad.ipynb").is_file()  # the executed copy shows the traceback


def test_parse_parameters_reads_yaml_values():
    assert run.parse_parameters([("epochs", "3"), ("data_root", "null"), ("device", "cuda")]) == {
        "epochs": 3,
        "data_root": None,
        "device": "cuda",
    }


def test_unknown_chapter_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown chapter 'nope'"):
        run.resolve_chapters(["nope"])


def test_bad_input_is_one_line_and_exit_2(capsys):
    assert run.main(["-p", "profile", "full"]) == 2
    assert run.main(["--chapters", "nope"]) == 2
    assert run.main(["-p", "epochs", "[1"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and all(x.startswith("python -m tools.run_book: error:") for x in lines)
    assert "--profile" in lines[0] and "unknown chapter 'nope'" in lines[1]
    assert "-p epochs '[1': not a YAML value" in lines[2]
    with pytest.raises(ValueError, match="unknown chapter"):
        run.main(["--chapters", "nope", "--debug"])


def test_config_overrides_are_checked_before_any_chapter_runs(capsys):
    assert run.main(["--set", "model.no_such_key=1", "--chapters", "intro"]) == 2
    assert "model.no_such_key" in capsys.readouterr().err
    assert run.main(["-p", "overrides", "[]"]) == 2
    assert "give it with --set" in capsys.readouterr().err


def test_toc_chapters_exist_and_summaries_run_last():
    notebooks = run.resolve_chapters(None)
    assert notebooks[0].name == "intro.ipynb"
    assert all(p.is_file() for p in notebooks)
    assert run.runs_last(notebooks[0])
    assert not any(run.runs_last(p) for p in notebooks[1:])


def test_a_hanging_cell_times_out_and_is_named(tmp_path, capsys):
    slow = write_notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(60)")
    rc = run.main(
        ["--chapters", str(slow), "--cell-timeout", "2", "--output-dir", str(tmp_path / "out")]
    )
    assert rc == 1
    assert "chapter 'slow' stopped in cell 2" in capsys.readouterr().err


def test_the_named_kernel_runs_the_chapters(tmp_path, monkeypatch):
    """A kernel registered under another name (as from a Colab-pinned virtual environment) runs
    the chapter: its kernel.json sets an environment variable that the chapter reads back."""
    spec = tmp_path / "jupyter" / "kernels" / "other"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "other", "language": "python", "env": {"WHO": "other"}}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    good = write_notebook(
        tmp_path / "good.ipynb",
        "import json, os, pathlib\n"
        "who = {'who': os.environ.get('WHO')}\n"
        "(pathlib.Path(results_dir) / 'good.json').write_text(json.dumps(who))",
    )
    out = ["--output-dir", str(tmp_path / "executed"), "--results-dir", str(tmp_path / "results")]
    assert run.main(["--chapters", str(good), "--kernel", "other", *out]) == 0
    assert json.loads((tmp_path / "results" / "good.json").read_text()) == {"who": "other"}


def test_an_unknown_kernel_is_named_before_any_chapter_runs(capsys):
    assert run.main(["--chapters", "intro", "--kernel", "nope"]) == 2
    err = capsys.readouterr().err
    assert "--kernel 'nope': no such Jupyter kernel; expected one of [" in err and "python3" in err
