"""The book's numbers from results files: tables, provenance, glue, and the claim-check."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from reid_lib.book.paths import ROOT
from reid_lib.engine.results import write_results
from reid_lib.reports import (
    NOT_REPRODUCED,
    book_numbers,
    check_claims,
    collect_results,
    glue_name,
    glued_numbers,
    paper_claims,
    seed_spread,
)
from reid_lib.reports.glue import GLUE_PREFIX
from tests.result_files import SHA, result_dict
from tools.run_book import EXECUTED


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    toy = result_dict("a", profile="smoke", dataset="toy", rank1=0.5, row="baseline")
    toy["provenance"]["numerics"] = "0123456789ab"
    write_results(toy, root)
    for seed, rank1 in ((0, 0.5), (1, 0.75)):
        data = result_dict(
            f"b{seed}", profile="full", dataset="market1501", rank1=rank1, seed=seed, row="full"
        )
        write_results(data, root)
    return root


def _executed(path: Path, glued: dict[str, str]) -> Path:
    """A notebook whose outputs are what myst-nb's ``glue(name, text, display=False)`` stores."""
    outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={GLUE_PREFIX + "text/plain": repr(text)},
            metadata={"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}},
        )
        for name, text in glued.items()
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("glue", outputs=outputs)])
    nbformat.write(nb, path)
    return path


def test_table_rows_carry_metrics_in_percent_and_provenance(tree):
    table = collect_results(tree)
    assert len(table) == 6, "3 files x 2 variants"
    row = table[(table.row == "baseline") & (table.variant == "single_query")].iloc[0]
    assert (row.profile, row.dataset, row.train_set, row.seed, row.run) == (
        "smoke",
        "toy",
        "toy",
        0,
        "a",
    )
    assert (row.rank1, row.rank10, row.mAP) == (50.0, 87.5, 25.0)
    assert row.provenance.startswith("commit 0123456789+dirty, config ")
    assert f"data {SHA[:10]}, cpu, numerics 0123456789ab, 2026-01-02T03:04:05+00:00" in (
        row.provenance
    )
    older = table[table.run == "b0"].iloc[0]
    assert f"data {SHA[:10]}, cpu, 2026-01-02T03:04:05+00:00" in older.provenance, "not recorded"


def test_paper_claims_put_ours_beside_the_paper(tree, tmp_path):
    claims = paper_claims(tree).set_index("metric")
    assert claims.loc["rank1", "paper (%)"] == 96.1
    assert claims.loc["rank1", "ours (%)"] == 62.5, "mean of the two seeds (50 and 75)"
    assert claims.loc["mAP", "status"] == "2 result file(s)"
    (tmp_path / "nothing").mkdir()
    empty = paper_claims(tmp_path / "nothing")
    assert set(empty["status"]) == {NOT_REPRODUCED}
    assert empty["ours (%)"].isna().all()


def test_seed_spread_groups_the_seeds_of_a_row(tree):
    spread = seed_spread(collect_results(tree))
    full = spread.loc[("full", "market1501", "full", "multi_query")]
    assert (full[("rank1", "mean")], full[("rank1", "count")]) == (62.5, 2)
    assert full[("rank1", "std")] == pytest.approx(17.6776695, rel=1e-6), "sample std of 50, 75"
    assert spread.loc[("smoke", "toy", "baseline", "single_query")][("mAP", "count")] == 1


def test_invalid_results_file_is_named(tree):
    bad = tree / "smoke" / "toy" / "broken.json"
    bad.write_text(json.dumps({"schema_version": 1}))
    with pytest.raises(ValueError, match=r"broken\.json"):
        collect_results(tree)


def test_claim_check_passes_then_fails_on_an_altered_number(tree, tmp_path):
    numbers = book_numbers(tree)
    assert numbers["smoke.toy.baseline.seed0.single_query.rank1"] == "50.0"
    assert numbers["paper.market1501.rank1"] == "62.5"
    notebook = _executed(tmp_path / "chapter.ipynb", numbers)
    assert glued_numbers(notebook) == numbers
    assert check_claims([notebook], tree) == []

    path = tree / "full" / "market1501" / "b1.json"
    data = json.loads(path.read_text())
    data["metrics"]["multi_query"]["rank1"] = 0.7
    path.write_text(json.dumps(data))
    problems = check_claims([notebook], tree)
    assert problems == [
        f"{notebook}: full.market1501.full.seed1.multi_query.rank1 shows '75.0', "
        "its results file gives '70.0'",
        f"{notebook}: paper.market1501.rank1 shows '62.5', its results file gives '60.0'",
    ]


def test_claim_check_flags_a_number_without_a_file(tree, tmp_path):
    notebook = _executed(tmp_path / "c.ipynb", {"cpu.toy.full.seed0.single_query.mAP": "1.0"})
    assert check_claims([notebook], tree) == [
        f"{notebook}: cpu.toy.full.seed0.single_query.mAP = '1.0' has no results file"
    ]


def test_glue_names_come_from_the_run_fields():
    line = {"profile": "cpu", "dataset": "viper", "train_set": "viper", "row": "full"}
    line |= {"seed": 2, "split": 0, "knob": None, "pretraining": None, "run": "whatever"}
    assert glue_name(line) == "cpu.viper.full.seed2"
    assert glue_name(line | {"train_set": "synthetic", "split": 3}) == (
        "cpu.viper.from-synthetic.full.seed2.split3"
    )
    assert glue_name(line | {"knob": "occlusion"}) == "cpu.viper.knob-occlusion.full.seed2"
    assert glue_name(line | {"row": None}) == "cpu.viper.run-whatever.seed2"


def test_two_files_with_the_same_fields_are_refused(tree):
    twin = result_dict("twin", profile="smoke", dataset="toy", rank1=0.25, row="baseline")
    write_results(twin, tree)
    with pytest.raises(ValueError, match=r"results files .* are one run \(profile=smoke"):
        book_numbers(tree)


def test_two_runs_that_share_a_glue_name_are_refused(tree):
    """Runs from two backbones are two runs, but the glue name does not tell them apart."""
    twin = result_dict("twin", profile="smoke", dataset="toy", rank1=0.25, row="baseline")
    twin["run"]["pretraining"] = "peta-resnet18 sha256:0123456789ab"
    write_results(twin, tree)
    with pytest.raises(ValueError, match=r"two results files for smoke\.toy\.baseline\.seed0"):
        book_numbers(tree)


def test_executed_book_matches_the_results_files():
    notebooks = sorted((EXECUTED / "book").glob("*.ipynb"))
    if not notebooks:
        pytest.skip(f"no executed chapters in {EXECUTED / 'book'} (run python -m tools.run_book)")
    assert check_claims(notebooks, ROOT / "results") == []
