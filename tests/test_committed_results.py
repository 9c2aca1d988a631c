"""Invariants of the committed results files (``results/``) that the book's tables read."""

from __future__ import annotations

import pytest

from reid_lib.book.paths import ROOT
from reid_lib.data.registry import SMALL_REAL_SETS
from reid_lib.engine.pretrained_weights import COMMITTED_BACKBONE, pretraining_label
from reid_lib.engine.results import RESULTS_GLOB
from reid_lib.reports import results_table
from reid_lib.reports.records import load_result_files

COMMITTED = load_result_files(ROOT / "results")


def test_the_tables_read_the_committed_results():
    results_table([ROOT / "results"])  # refuses duplicates, unknown rows and mixed backbones


@pytest.mark.parametrize(
    "data", COMMITTED, ids=lambda d: f"{d['dataset']['name']}/{d['run']['name']}"
)
def test_each_committed_run_started_from_the_committed_backbone_or_none(data):
    cpu_label = pretraining_label(str(ROOT / COMMITTED_BACKBONE))
    if data["run"]["profile"] == "cpu":
        assert data["run"]["pretraining"] in (cpu_label, None)


@pytest.mark.parametrize(
    "data", COMMITTED, ids=lambda d: f"{d['dataset']['name']}/{d['run']['name']}"
)
def test_a_small_real_set_scores_every_query(data):
    """VIPeR, PRID 2011, GRID and CAVIAR4REID give every test person a match in the other camera,
    so no query may be skipped (VIPeR's person 000 once was, as a Market distractor). The
    training split ranked among itself (``train_split``) has the training images as queries."""
    if data["dataset"]["name"] not in SMALL_REAL_SETS:
        pytest.skip("a set whose protocol may leave queries without a match")
    for variant, metrics in data["metrics"].items():
        if variant != "train_split":
            assert metrics["num_valid_queries"] == data["dataset"]["num_query"], variant


def test_the_archive_is_out_of_every_table():
    assert list((ROOT / "results" / "archive").rglob("*.json")), "the archive holds earlier runs"
    read = list((ROOT / "results").glob(RESULTS_GLOB))
    assert len(read) == len(COMMITTED)
    assert not [p for p in read if "archive" in p.relative_to(ROOT / "results").parts]
