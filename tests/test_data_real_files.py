"""Loaders against the shared real images (``REID_DATA_ROOT``); skipped when it is unset.

Expected counts are those the data README documents for each benchmark and protocol.
Splits files go to ``tmp_path``: the shared folder is never written to.
"""

import os
from pathlib import Path

import pytest

from reid_lib.data import build_dataset
from reid_lib.data.dukemtmc_reid import DUKEMTMC_RULE
from reid_lib.data.market1501 import MARKET1501_RULE
from reid_lib.data.msmt17 import MSMT17_RULE, load_msmt17
from reid_lib.data.protocol_splits import SPLITS_DIR_ENV
from reid_lib.reports.significance import SPLIT_TEST_TRAIN_RATIO

DATA_ROOT = os.environ.get("REID_DATA_ROOT")
pytestmark = [
    pytest.mark.real_data,
    pytest.mark.skipif(
        not DATA_ROOT, reason="REID_DATA_ROOT is unset (point it at the shared data)"
    ),
]


def folder(*parts: str) -> Path:
    path = Path(DATA_ROOT or "", *parts)
    if not path.is_dir():
        pytest.skip(f"{path} is not there")
    return path


def counts(records) -> tuple[int, int]:
    return len({r.pid for r in records}), len(records)


@pytest.mark.parametrize(
    ("name", "subfolder", "train", "query", "gallery"),
    [
        ("viper", "VIPeR", (316, 632), (316, 316), (316, 316)),
        ("prid2011", "PRID", (100, 200), (100, 100), (649, 649)),
        ("grid", "GRID", (125, 250), (125, 125), (900, 900)),
        ("caviar4reid", "CAVIAR4REID", (47, 720), (25, 250), (25, 250)),
    ],
)
def test_peta_benchmarks_follow_their_protocols(tmp_path, name, subfolder, train, query, gallery):
    root = folder("peta-reid", subfolder)
    ds = build_dataset(name, root, splits_dir=tmp_path)
    assert (counts(ds.train), counts(ds.query), counts(ds.gallery)) == (train, query, gallery)
    train_ids = {r.extra["orig_pid"] for r in ds.train}
    assert not train_ids & {r.pid for r in ds.query}
    assert {r.pid for r in ds.query} <= {r.pid for r in ds.gallery}
    assert (tmp_path / f"{name}_splits_seed0.json").is_file()
    # The ratio the corrected resampled t-test uses for this protocol's splits.
    assert SPLIT_TEST_TRAIN_RATIO[name] == query[0] / train[0]


def test_nothing_is_written_into_the_shared_folder(tmp_path, monkeypatch):
    """Writable or not (as root it always is), a dataset folder is only read: the splits go to
    the cache."""
    root = folder("peta-reid", "VIPeR")
    monkeypatch.setenv(SPLITS_DIR_ENV, str(tmp_path))
    before = sorted(os.listdir(root))
    ds = build_dataset("viper", root, split_index=9)
    assert sorted(os.listdir(root)) == before
    assert list(tmp_path.rglob("viper_splits_seed0.json")), "the splits went to the cache"
    assert "split 9 of 10 (viper_splits_seed0.json)" in ds.protocol


def test_market_crops_parse_and_flat_protocol():
    root = folder("real-crops", "market1501")
    assert all(MARKET1501_RULE.match(p.name) for p in root.glob("*.jpg"))
    ds = build_dataset("market1501", root, flat=True)
    assert {r.pid for r in ds.query} == {51, 146, 1285}
    assert 0 in {r.pid for r in ds.gallery}
    assert len(ds.train) + len(ds.query) + len(ds.gallery) + ds.num_junk_dropped == 64


def test_duke_crops_parse():
    names = [p.name for p in folder("real-crops", "dukemtmc-reid").glob("*.jpg")]
    assert len(names) == 20
    assert all(DUKEMTMC_RULE.match(name) for name in names)


def test_msmt_crops_load_through_hand_written_lists(tmp_path):
    crops = sorted(folder("real-crops", "msmt17").glob("*.jpg"))
    assert len(crops) == 15
    for part, chosen in (("train", crops[:8]), ("test", crops[8:])):
        for path in chosen:
            link = tmp_path / part / path.name[:4] / path.name
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(path)
    lines = {
        "list_train.txt": [f"{p.name[:4]}/{p.name} {int(p.name[:4])}" for p in crops[:6]],
        "list_val.txt": [f"{p.name[:4]}/{p.name} {int(p.name[:4])}" for p in crops[6:8]],
        "list_query.txt": [f"{p.name[:4]}/{p.name} {int(p.name[:4])}" for p in crops[8:10]],
        "list_gallery.txt": [f"{p.name[:4]}/{p.name} {int(p.name[:4])}" for p in crops[10:]],
    }
    for name, content in lines.items():
        (tmp_path / name).write_text("\n".join(content) + "\n")
    ds = load_msmt17(tmp_path)
    for record in ds.query + ds.gallery:
        assert record.path.is_file()
        assert record.camid == int(MSMT17_RULE.parse(record.path)["cam"]) - 1
    assert len(ds.train) == 8


def test_peta_training_subsets_hold_their_documented_identities():
    ds = build_dataset("peta_training", folder("peta-reid"))
    sources = {s: [r for r in ds.train if r.extra["source"] == s] for s in ("TownCentre", "SARC3D")}
    assert counts(sources["TownCentre"]) == (222, 6967)
    assert counts(sources["SARC3D"]) == (50, 200)
    assert ds.num_train_pids == 272 and not ds.query and not ds.gallery
