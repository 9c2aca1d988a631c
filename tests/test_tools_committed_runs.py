"""The committed-runs page is generated from results files and checked against them."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from reid_lib.engine.results import write_results
from reid_lib.reports.rerun import wrapped_command
from tests.result_files import result_dict
from tools import committed_runs


def write_runs(results: Path) -> None:
    for split in (0, 1, 2):
        data = result_dict(
            f"full-split{split}", profile="cpu", dataset="viper", rank1=0.5, row="full", split=split
        )
        data["provenance"]["wall_time_s"] = 720.0
        write_results(data, results)


def test_the_page_lists_each_row_with_its_command(tmp_path: Path) -> None:
    write_runs(tmp_path / "results")
    page = tmp_path / "committed_runs.md"
    assert committed_runs.main(["--results", str(tmp_path / "results"), "--page", str(page)]) == 0
    text = page.read_text()
    assert "## cpu: viper" in text
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("| full ")
    ]
    assert len(rows) == 1
    assert rows[0][1:] == ["0-2", "0", "3", "-", "0.60"]  # splits, seeds, runs, backbone, hours
    command = "python -m tools.sweep run --profile cpu --dataset viper --rows full --seeds 0"
    assert command in text.replace(" \\\n    ", " ")


def test_long_commands_wrap_between_options() -> None:
    command = (
        "python -m tools.sweep joint --profile cpu --rows full --seeds 1 --splits 0 1 2 3 4 "
        "--sets viper prid2011 grid caviar4reid"
    )
    text = wrapped_command(command, width=40)
    lines = text.split(" \\\n")
    assert len(lines) > 2 and all(len(line) <= 50 for line in lines)
    assert all(line.startswith(("python", "    --")) for line in lines)
    assert shlex.split(text.replace("\\\n", "")) == shlex.split(command)


def test_check_fails_on_a_stale_page_and_names_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results, page = tmp_path / "results", tmp_path / "committed_runs.md"
    write_runs(results)
    args = ["--results", str(results), "--page", str(page)]
    assert committed_runs.main([*args, "--check"]) == 1  # no page yet
    committed_runs.main(args)
    assert committed_runs.main([*args, "--check"]) == 0
    (results / "cpu" / "viper" / "full-split2.json").unlink()
    assert committed_runs.main([*args, "--check"]) == 1
    assert "python -m tools.committed_runs" in capsys.readouterr().err


def test_a_missing_results_folder_is_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    missing = tmp_path / "nowhere"
    assert committed_runs.main(["--results", str(missing), "--page", str(tmp_path / "p.md")]) == 2
    assert str(missing) in capsys.readouterr().err


def test_the_committed_page_is_current() -> None:
    assert committed_runs.main(["--check"]) == 0, "run python -m tools.committed_runs"
