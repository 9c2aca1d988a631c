"""A run's git state: the commit, and whether code differs from it (results files do not count)."""

from __future__ import annotations

import subprocess

from reid_lib.engine.provenance import code_state, git_state


def _git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_a_changed_results_file_is_not_dirty_but_changed_code_is(tmp_path):
    (tmp_path / "results" / "cpu").mkdir(parents=True)
    (tmp_path / "results" / "cpu" / "run.json").write_text("{}")
    (tmp_path / "code.py").write_text("x = 1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    clean = git_state(tmp_path)
    assert clean["dirty"] is False and len(clean["commit"]) == 40
    (tmp_path / "results" / "cpu" / "run.json").write_text('{"metrics": {}}')  # a variant added
    (tmp_path / "results" / "cpu" / "new.json").write_text("{}")  # a new results file
    assert git_state(tmp_path)["dirty"] is False
    (tmp_path / "code.py").write_text("x = 2\n")
    assert git_state(tmp_path)["dirty"] is True


def test_outside_a_checkout_the_state_is_unknown(tmp_path):
    assert git_state(tmp_path) == {"commit": None, "dirty": None}


def test_the_code_state_is_the_checkouts_when_the_process_first_asked(tmp_path):
    """A sweep runs for hours on the modules it imported: a commit in its checkout meanwhile is
    not the code its later results files came from."""
    (tmp_path / "code.py").write_text("x = 1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    first = code_state(tmp_path)
    assert first == git_state(tmp_path) and first["dirty"] is False
    (tmp_path / "code.py").write_text("x = 2\n")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "later")
    assert git_state(tmp_path)["commit"] != first["commit"]
    assert code_state(tmp_path) == first
    code_state(tmp_path)["commit"] = "changed by a caller"
    assert code_state(tmp_path) == first, "each caller gets its own copy"
