"""The GitHub Actions workflows call real make targets and modules, pin every action, and the
linters that `make lint` runs on them catch an unsafe workflow."""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def steps() -> list[dict]:
    return [
        step
        for path in WORKFLOWS
        for job in yaml.safe_load(path.read_text())["jobs"].values()
        for step in job.get("steps", [])
    ]


def commands() -> list[list[str]]:
    """Every shell command line of every ``run:`` step, split into words."""
    return [
        shlex.split(line)
        for step in steps()
        if "run" in step
        for line in step["run"].splitlines()
        if line.strip()
    ]


def test_there_are_workflows_for_tests_the_site_and_the_results():
    assert {path.stem for path in WORKFLOWS} == {"test", "site", "results"}


def test_every_make_target_a_workflow_calls_exists():
    targets = [words[1] for words in commands() if words[0] == "make"]
    assert {"test", "book", "results", ".venv/.installed"} <= set(targets)
    for target in targets:
        dry = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
        assert dry.returncode == 0, f"make {target}: {dry.stderr}"


def test_every_module_a_workflow_runs_exists():
    modules = [words[words.index("-m") + 1] for words in commands() if "-m" in words]
    assert {"data_scripts.fetch", "tools.sweep"} <= set(modules)
    for module in modules:
        assert importlib.util.find_spec(module) is not None, module


def test_every_action_is_pinned_to_a_commit():
    for step in steps():
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]


UNSAFE = """
name: unsafe
on:
  workflow_dispatch:
    inputs:
      rows: {type: string}
jobs:
  run:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - run: make results ROWS="${{ inputs.rows }}"
        env:
          DATASET: ${{ inputs.datset }}
"""


@pytest.mark.skipif(
    not (BIN / "actionlint").exists() or shutil.which("zizmor", path=str(BIN)) is None,
    reason="actionlint and zizmor come with the dev extras (make test installs them)",
)
def test_the_linters_refuse_an_unpinned_action_an_injected_input_and_a_typo(tmp_path):
    workflow = tmp_path / ".github" / "workflows" / "unsafe.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(UNSAFE)
    zizmor = subprocess.run(
        [str(BIN / "zizmor"), "--offline", str(workflow.parent)], capture_output=True, text=True
    )
    assert zizmor.returncode != 0
    assert "template-injection" in zizmor.stdout and "unpinned-uses" in zizmor.stdout
    actionlint = subprocess.run(
        [str(BIN / "actionlint"), str(workflow)], capture_output=True, text=True, cwd=tmp_path
    )
    assert actionlint.returncode != 0
    assert 'property "datset" is not defined' in actionlint.stdout
