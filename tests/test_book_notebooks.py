"""Committed chapters: stripped of outputs, the same parameters and set-up cell."""

from __future__ import annotations

import sys

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from papermill.translators import PythonTranslator

from tools import run_book as run
from tools import setup_cell
from tools import strip_notebooks as strip

CHAPTERS = run.resolve_chapters(None)
PARAMETER_NAMES = {
    "profile",
    "dataset",
    "data_root",
    "device",
    "epochs",
    "seed",
    "results_dir",
    "runs_dir",
    "overrides",
}
#: Parameters some chapters add after the common ones.
CHAPTER_PARAMETERS = {"ablations": {"seeds", "train_missing"}, "datasets": {"train_missing"}}


def test_strip_keeps_only_checked_outputs_and_tags():
    nb = new_notebook(
        cells=[
            new_markdown_cell("# t"),
            new_code_cell(
                "print(1)",
                execution_count=3,
                outputs=[new_output("stream", name="stdout", text="1\n")],
                metadata={
                    "tags": ["nbval-check-output"],
                    "execution": {"iopub.status.busy": "2026"},
                },
            ),
            new_code_cell(
                "2",
                execution_count=4,
                outputs=[new_output("execute_result", data={"text/plain": "2"}, execution_count=4)],
                metadata={"papermill": {"duration": 1.0}},
            ),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3"},
            "papermill": {"duration": 1.0},
        },
    )
    clean = strip.strip_notebook(nb)
    checked, plain = clean.cells[1], clean.cells[2]
    assert checked.outputs[0].text == "1\n" and checked.execution_count == 3
    assert checked.metadata == {"tags": ["nbval-check-output"]}
    assert plain.outputs == [] and plain.execution_count is None and plain.metadata == {}
    assert set(clean.metadata) == {"kernelspec"}
    assert strip.strip_notebook(clean) == clean


def test_check_mode_fails_on_a_notebook_with_outputs(tmp_path, capsys):
    path = tmp_path / "dirty.ipynb"
    cell = new_code_cell("1", outputs=[new_output("execute_result", data={"text/plain": "1"})])
    nbformat.write(new_notebook(cells=[cell]), path)
    before = path.read_text()
    assert strip.main(["--check", str(path)]) == 1
    assert path.read_text() == before
    assert "carries outputs" in capsys.readouterr().err
    assert strip.main([str(path)]) == 0
    assert strip.main(["--check", str(path)]) == 0


def test_a_corrupt_notebook_is_one_line_naming_it(tmp_path, capsys):
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    assert strip.main(["--check", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{broken}: not a readable Jupyter notebook" in err
    assert broken.read_text() == '{"cells": ['


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_committed_chapter_is_stripped(path):
    text = path.read_text()
    assert strip.serialise(strip.strip_notebook(nbformat.reads(text, as_version=4))) == text


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_shape(path):
    cells = nbformat.read(path, as_version=4).cells
    code = [c for c in cells if c.cell_type == "code"]
    params = code[0]
    assert "parameters" in params.metadata.get("tags", [])
    names = {p.name for p in PythonTranslator.inspect(params)}  # as papermill reads them
    assert names == PARAMETER_NAMES | CHAPTER_PARAMETERS.get(path.stem, set())
    set_up = code[1]
    assert set_up.source == setup_cell.render(path.stem)
    assert set_up.metadata["tags"] == ["hide-input"], "one hidden set-up cell"
    assert f'set_up_chapter(\n    "{path.stem}",' in set_up.source
    assert all(f"{name}={name}," in set_up.source for name in PARAMETER_NAMES)
    assert ("needs_data=False" in set_up.source) == (path.stem in {"intro", "reproduction"})
    later = "".join(cell.source for cell in code[2:])
    assert "set_up_chapter(" not in later and "prepare_data(" not in later
    assert "ch.write_results(" in code[-1].source


def test_checked_outputs_are_copied_from_the_executed_copy_by_source():
    checked = new_code_cell("print(1)", metadata={"tags": ["nbval-check-output"]})
    source = new_notebook(cells=[checked, new_code_cell("x = 2")])
    run_output = [new_output("stream", name="stdout", text="1\n")]
    executed = new_notebook(
        cells=[
            new_code_cell("profile = 'smoke'"),  # papermill's injected cell shifts the indices
            new_code_cell("print(1)", outputs=run_output, execution_count=2),
            new_code_cell("x = 2", outputs=[new_output("stream", name="stdout", text="no\n")]),
        ]
    )
    refreshed = strip.strip_notebook(strip.copy_checked_outputs(source, executed))
    assert refreshed.cells[0].outputs[0].text == "1\n"
    assert refreshed.cells[0].execution_count == 2
    assert refreshed.cells[1].outputs == []
    with pytest.raises(ValueError, match="no executed cell"):
        strip.copy_checked_outputs(source, new_notebook(cells=[]))


def test_set_up_cell_installs_from_the_repository_and_branch_of_the_launch_buttons():
    config = yaml.safe_load((run.ROOT / "_config.yml").read_text())
    colab = setup_cell.colab_part()
    repository, branch = config["repository"]["url"], config["repository"]["branch"]
    assert f'REPOSITORY, REVISION = "{repository}", "{branch}"' in colab
    assert '"google.colab" in sys.modules' in colab
    assert 'f"{CHECKOUT}[colab]"' in colab, "the extra that upgrades nothing Colab has"
    assert setup_cell.main(["--check"]) == 0
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert config["execute"]["execute_notebooks"] == "off"


def test_set_up_cell_clones_and_installs_the_extras_only_on_colab(monkeypatch):
    import subprocess
    import sys
    import types

    commands = []
    monkeypatch.setattr(subprocess, "run", lambda command, check: commands.append(command))
    monkeypatch.setattr(sys, "path", list(sys.path))
    exec(setup_cell.colab_part(), {})
    assert commands == [], "outside Colab the cell does nothing"
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(setup_cell.colab_part(), {})
    clone, pip = commands
    assert clone[:4] == ["git", "clone", "--depth", "1"] and clone[-1] == "/content/reid-book"
    assert pip[-2:] == ["-e", "/content/reid-book[colab]"]
    assert sys.path[0] == "/content/reid-book"


def test_the_import_check_finds_a_missing_module(monkeypatch):
    from tools import check_install

    statements = check_install.chapter_imports()
    assert "from reid_lib.book.set_up import set_up_chapter" in statements
    assert len(statements["from reid_lib.book.set_up import set_up_chapter"]) == len(CHAPTERS)
    monkeypatch.setattr(
        check_install, "chapter_imports", lambda: {"import json": ["x"], "import nope_x": ["y"]}
    )
    failures = check_install.failing_imports(sys.executable)
    assert (
        list(failures) == ["import nope_x"] and "ModuleNotFoundError" in failures["import nope_x"]
    )


def test_the_import_check_names_an_interpreter_that_is_not_there(capsys, tmp_path):
    from tools import check_install

    assert check_install.main(["--python", str(tmp_path / "python")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{tmp_path / 'python'}" in err


def test_setup_cell_check_fails_on_a_stale_or_visible_cell_and_rewrite_fixes_it(
    tmp_path, monkeypatch, capsys
):
    (tmp_path / "_config.yml").write_text((run.ROOT / "_config.yml").read_text())
    chapter = tmp_path / "book" / "wdp.ipynb"
    chapter.parent.mkdir()
    cells = [new_code_cell("seed = 0", metadata={"tags": ["parameters"]}), new_code_cell("old")]
    chapter.write_text(strip.serialise(new_notebook(cells=cells)))
    monkeypatch.setattr(setup_cell, "ROOT", tmp_path)
    monkeypatch.setattr(setup_cell, "resolve_chapters", lambda chosen: [chapter])
    before = chapter.read_text()
    assert setup_cell.main(["--check"]) == 1
    assert chapter.read_text() == before, "--check writes nothing"
    assert "book/wdp.ipynb: set-up cell differs" in capsys.readouterr().err
    assert setup_cell.main([]) == 0
    cell = nbformat.read(chapter, as_version=4).cells[1]
    assert cell.source == setup_cell.render("wdp") and cell.metadata["tags"] == ["hide-input"]
    assert setup_cell.main(["--check"]) == 0
    nb = nbformat.read(chapter, as_version=4)
    nb.cells[1].metadata["tags"] = []
    chapter.write_text(strip.serialise(nb))
    assert setup_cell.main(["--check"]) == 1, "a set-up cell shown in full is stale too"
