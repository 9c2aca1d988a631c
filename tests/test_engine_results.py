"""Results files: the schema, provenance fields, the path layout, and schema violations."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from reid_lib.data.records import Record, ReIDDataset
from reid_lib.engine.config import Config, apply_overrides
from reid_lib.engine.provenance import dataset_manifest_sha256
from reid_lib.engine.results import (
    ResultsSchemaError,
    make_results,
    rank_metrics,
    validate_results,
    write_results,
)


def _dataset(root: Path, swap: bool = False) -> ReIDDataset:
    train = [Record(root / f"t{i}.jpg", pid=10 + i // 2, camid=i % 2) for i in range(4)]
    query = [Record(root / "q.jpg", pid=1, camid=0)]
    gallery = [Record(root / "g.jpg", pid=2 if swap else 1, camid=1)]
    return ReIDDataset("toy", root, train, query, gallery)


def _rank_result():
    cmc = np.minimum(1.0, np.linspace(0.5, 1.2, 50))
    return SimpleNamespace(cmc=cmc, mAP=0.4, mINP=0.2, num_valid_queries=7)


def _results(tmp_path):
    cfg = apply_overrides(Config(), ["run.name=r1", "run.profile=smoke", "data.dataset=viper"])
    metrics = {"single_query": rank_metrics(_rank_result())}
    metrics["single_query_rerank"] = rank_metrics(_rank_result())
    return make_results(
        cfg,
        _dataset(tmp_path),
        metrics,
        epoch=2,
        device="cpu",
        numerics="ac6dc3fe1fb0",
        wall_time_s=1.5,
        images_per_s=9.0,
    )


def test_written_file_has_the_documented_layout(tmp_path):
    path = write_results(_results(tmp_path), tmp_path / "results")
    assert path == tmp_path / "results" / "smoke" / "viper" / "r1.json"
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask, "usual permissions, not mkstemp's 0600"
    data = json.loads(path.read_text())
    validate_results(data)
    entry = data["metrics"]["single_query"]
    assert entry["rank1"] == pytest.approx(_rank_result().cmc[0])
    assert entry["rank20"] == pytest.approx(_rank_result().cmc[19])
    assert (entry["mAP"], entry["mINP"], entry["num_valid_queries"]) == (0.4, 0.2, 7)
    prov = data["provenance"]
    assert prov["config"]["run"]["name"] == "r1"
    assert prov["git_commit"] is None or len(prov["git_commit"]) == 40
    assert data["dataset"]["num_train_ids"] == 2


def test_a_file_from_before_the_numerics_fingerprint_is_still_valid(tmp_path):
    data = copy.deepcopy(_results(tmp_path))
    del data["provenance"]["numerics"]
    validate_results(data)
    data["provenance"]["numerics"] = None
    validate_results(data)


def test_manifest_checksum_tracks_the_split(tmp_path):
    a = dataset_manifest_sha256(_dataset(tmp_path))
    assert a == dataset_manifest_sha256(_dataset(tmp_path))
    assert a != dataset_manifest_sha256(_dataset(tmp_path, swap=True))
    moved = dataset_manifest_sha256(_dataset(tmp_path / "moved"))
    assert a == moved, "the checksum uses paths relative to the dataset root"


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d.pop("run"), "run"),
        (lambda d: d["run"].pop("train_set"), "run.train_set"),
        (lambda d: d["run"].update(knob=1), "run.knob"),
        (lambda d: d["metrics"].pop("single_query"), "metrics.single_query"),
        (lambda d: d["metrics"]["single_query"].update(mAP=1.5), "metrics.single_query.mAP"),
        (lambda d: d["metrics"]["single_query"].update(rank5=0.0), "metrics.single_query"),
        (lambda d: d["metrics"].update(other={}), "metrics.other"),
        (lambda d: d["run"].update(seed="0"), "run.seed"),
        (lambda d: d["provenance"].update(git_dirty=1), "provenance.git_dirty"),
        (lambda d: d["dataset"].update(manifest_sha256="abc"), "dataset.manifest_sha256"),
        (lambda d: d.update(schema_version=0), "schema_version"),
        (lambda d: d["training"].update(images_per_s="fast"), "training.images_per_s"),
        (lambda d: d["provenance"].update(numerics=12), "provenance.numerics"),
    ],
)
def test_schema_violations_name_the_field(tmp_path, edit, field):
    data = copy.deepcopy(_results(tmp_path))
    validate_results(data)
    edit(data)
    with pytest.raises(ResultsSchemaError, match=f"results field '{field}'"):
        validate_results(data)


def test_short_cmc_is_rejected():
    with pytest.raises(ValueError, match=r"result\.cmc"):
        rank_metrics(SimpleNamespace(cmc=[0.5] * 10, mAP=0.1, mINP=0.1, num_valid_queries=1))
