"""Market-1501 and DukeMTMC-reID loaders on hand-made trees in the real layouts (empty files)."""

import re
from pathlib import Path

import pytest

from reid_lib.data import BadNameError, DatasetLayoutError, EmptySplitError, build_dataset
from reid_lib.data.dukemtmc_reid import load_dukemtmc_reid
from reid_lib.data.market1501 import load_market1501, parse_market1501_name

MARKET_TREE = {
    "bounding_box_train": [
        "0002_c1s1_000451_03.jpg",
        "0002_c2s1_000301_01.jpg",
        "0007_c2s3_070952_01.jpg",
        "0010_c6s4_002427_02.jpg",
    ],
    "bounding_box_test": [
        "-1_c1s1_000401_03.jpg",
        "-1_c3s1_000551_01.jpg",
        "0000_c1s1_000151_01.jpg",
        "0001_c1s1_001051_03.jpg",
        "0001_c5s1_001426_02.jpg",
        "0003_c3s1_000551_00.jpg",
        "Thumbs.db",
    ],
    "query": ["0001_c1s1_001051_00.jpg", "0003_c1s1_000000_01.jpg"],
    "gt_bbox": [
        "0001_c1s1_001051_00.jpg",
        "0001_c1s1_009376_00.jpg",
        "0002_c1s1_000451_00.jpg",
        "0003_c1s1_000376_00.jpg",
    ],
}


def make_tree(root: Path, tree: dict[str, list[str]]) -> Path:
    for folder, names in tree.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for name in names:
            (root / folder / name).touch()
    return root


def test_market_splits_junk_distractors_and_relabelling(tmp_path):
    ds = load_market1501(make_tree(tmp_path, MARKET_TREE))
    assert ds.num_junk_dropped == 2
    assert [r.pid for r in ds.train] == [0, 0, 1, 2]
    assert [r.extra["orig_pid"] for r in ds.train] == [2, 2, 7, 10]
    assert [r.camid for r in ds.train] == [0, 1, 1, 5]
    assert sorted(r.pid for r in ds.gallery) == [0, 1, 1, 3]
    assert [(r.pid, r.camid) for r in ds.query] == [(1, 0), (3, 0)]
    assert all(r.pid != -1 for split in (ds.train, ds.query, ds.gallery) for r in split)
    assert ds.multi_query == []
    assert "junk images dropped (pid -1): 2" in ds.summary()


def test_market_record_extra_fields_come_from_the_name():
    record = parse_market1501_name(Path("q/0002_c3s4_000451_07.jpg"))
    assert (record.pid, record.camid) == (2, 2)
    assert record.extra == {"seq": 4, "frame": 451, "box": 7}


def test_market_multi_query_keeps_gt_bbox_images_of_query_ids(tmp_path):
    ds = load_market1501(make_tree(tmp_path, MARKET_TREE), multi_query=True)
    assert sorted(r.path.name for r in ds.multi_query) == [
        "0001_c1s1_001051_00.jpg",
        "0001_c1s1_009376_00.jpg",
        "0003_c1s1_000376_00.jpg",
    ]
    assert "multi_query" in ds.summary()


def test_market_multi_query_without_gt_bbox_names_the_folder(tmp_path):
    tree = {k: v for k, v in MARKET_TREE.items() if k != "gt_bbox"}
    with pytest.raises(DatasetLayoutError, match="gt_bbox is missing"):
        load_market1501(make_tree(tmp_path, tree), multi_query=True)


def test_market_found_inside_the_archive_folder_name(tmp_path):
    make_tree(tmp_path / "Market-1501-v15.09.15", MARKET_TREE)
    ds = build_dataset("Market-1501", tmp_path)
    assert ds.root == tmp_path / "Market-1501-v15.09.15"


def test_missing_folder_names_it_and_shows_the_layout(tmp_path):
    tree = {k: v for k, v in MARKET_TREE.items() if k != "query"}
    with pytest.raises(DatasetLayoutError) as info:
        load_market1501(make_tree(tmp_path, tree))
    message = str(info.value)
    assert f"folder {tmp_path / 'query'} is missing" in message
    assert "bounding_box_train/" in message and "bounding_box_test/" in message


def test_missing_root_is_named(tmp_path):
    with pytest.raises(
        DatasetLayoutError, match=re.escape(f"{tmp_path / 'absent'} does not exist")
    ):
        load_market1501(tmp_path / "absent")


def test_bad_market_name_quotes_name_and_rule(tmp_path):
    tree = {**MARKET_TREE, "query": ["0001_c1_001051_00.jpg"]}
    with pytest.raises(BadNameError) as info:
        load_market1501(make_tree(tmp_path, tree))
    assert "'0001_c1_001051_00.jpg'" in str(info.value)
    assert "<pid>_c<cam>s<seq>_<frame>_<box>.jpg" in str(info.value)


def test_camera_zero_breaks_the_rule(tmp_path):
    with pytest.raises(BadNameError, match=r"0001_c0s1_001051_00\.jpg"):
        parse_market1501_name(tmp_path / "0001_c0s1_001051_00.jpg")


def test_distractor_in_query_is_rejected(tmp_path):
    tree = {**MARKET_TREE, "query": ["0000_c1s1_001051_00.jpg"]}
    with pytest.raises(ValueError, match="distractor images"):
        load_market1501(make_tree(tmp_path, tree))


def test_empty_query_is_a_clear_error(tmp_path):
    tree = {**MARKET_TREE, "query": []}
    with pytest.raises(EmptySplitError, match="'query' split is empty"):
        load_market1501(make_tree(tmp_path, tree))


def test_synthetic_name_reads_market_layout(tmp_path):
    ds = build_dataset("synthetic", make_tree(tmp_path, MARKET_TREE))
    assert ds.name == "synthetic"
    assert ds.num_train_pids == 3


def test_flat_folder_demo_protocol(tmp_path):
    names = [
        "0000_c3s1_107067_00.jpg",
        "0051_c3s1_005551_00.jpg",
        "0051_c4s1_005526_00.jpg",
        "0051_c4s1_005600_00.jpg",
        "0145_c2s1_022601_04.jpg",
        "0145_c2s1_031551_02.jpg",
        "-1_c2s1_031551_02.jpg",
    ]
    for name in names:
        (tmp_path / name).touch()
    ds = load_market1501(tmp_path, flat=True)
    assert [r.path.name for r in ds.query] == ["0051_c3s1_005551_00.jpg"]
    assert sorted(r.path.name for r in ds.gallery) == [
        "0000_c3s1_107067_00.jpg",
        "0051_c4s1_005526_00.jpg",
        "0051_c4s1_005600_00.jpg",
    ]
    assert [r.extra["orig_pid"] for r in ds.train] == [145, 145]
    assert ds.num_junk_dropped == 1


DUKE_TREE = {
    "bounding_box_train": ["0001_c2_f0046182.jpg", "0001_c5_f0051341.jpg", "0003_c2_f0044220.jpg"],
    "bounding_box_test": ["0005_c2_f0046985.jpg", "0019_c1_f0056019.jpg", "0005_c5_f0051781.jpg"],
    "query": ["0005_c1_f0045591.jpg"],
}


def test_duke_loader(tmp_path):
    ds = build_dataset("duke", make_tree(tmp_path, DUKE_TREE))
    assert ds.name == "dukemtmc_reid"
    assert [(r.pid, r.camid, r.extra["frame"]) for r in ds.train] == [
        (0, 1, 46182),
        (0, 4, 51341),
        (1, 1, 44220),
    ]
    assert sorted((r.pid, r.camid) for r in ds.gallery) == [(5, 1), (5, 4), (19, 0)]
    assert ds.num_junk_dropped == 0


def test_duke_found_inside_archive_folder(tmp_path):
    make_tree(tmp_path / "DukeMTMC-reID", DUKE_TREE)
    assert load_dukemtmc_reid(tmp_path).root == tmp_path / "DukeMTMC-reID"


def test_market_name_in_duke_folder_quotes_duke_rule(tmp_path):
    tree = {**DUKE_TREE, "query": ["0005_c1s1_045591_00.jpg"]}
    with pytest.raises(
        BadNameError, match=r"DukeMTMC-reID naming rule '<pid>_c<cam>_f<frame>\.jpg'"
    ):
        load_dukemtmc_reid(make_tree(tmp_path, tree))
