"""MSMT17 V1 and V2 loaders on hand-made trees with hand-written list files."""

from pathlib import Path

import pytest

from reid_lib.data import BadNameError, DatasetLayoutError, build_dataset
from reid_lib.data.msmt17 import load_msmt17, parse_msmt17_name

LISTS = {
    "list_train.txt": [
        "0000/0000_000_01_0303morning_0015_0.jpg 0",
        "0000/0000_001_01_0303morning_0015_1.jpg 0",
        "0001/0001_000_05_0303noon_0111_4.jpg 1",
    ],
    "list_val.txt": ["0002/0002_010_15_0113morning_0174_0.jpg 2"],
    "list_query.txt": ["0000/0000_000_14_0303morning_1118_1.jpg 0"],
    "list_gallery.txt": [
        "0000/0000_003_07_0303afternoon_0435_2.jpg 0",
        "0001/0001_012_10_0114noon_0960_1.jpg 1",
    ],
}


def make_msmt(root: Path, train: str, test: str, lists=LISTS, suffix: str = "") -> Path:
    for list_name, lines in lists.items():
        folder = root / (train if list_name in ("list_train.txt", "list_val.txt") else test)
        for line in lines:
            path = folder / line.split()[0].replace(".jpg", f"{suffix}.jpg")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        (root / list_name).write_text(
            "".join(line.replace(".jpg", f"{suffix}.jpg") + "\n" for line in lines)
        )
    return root


def test_v1_reads_list_files_with_camera_from_name(tmp_path):
    ds = load_msmt17(make_msmt(tmp_path / "MSMT17_V1", "train", "test"))
    assert [(r.extra["orig_pid"], r.camid) for r in ds.train] == [(0, 0), (0, 0), (1, 4), (2, 14)]
    assert [(r.pid, r.camid) for r in ds.query] == [(0, 13)]
    assert [(r.pid, r.camid) for r in ds.gallery] == [(0, 6), (1, 9)]
    assert ds.query[0].path == tmp_path / "MSMT17_V1/test/0000/0000_000_14_0303morning_1118_1.jpg"
    assert ds.gallery[1].extra == {
        "index": 12,
        "date": "0114",
        "time": "noon",
        "frame": 960,
        "n": 1,
    }
    assert "V1" in ds.protocol


def test_v1_found_from_parent_and_val_can_be_left_out(tmp_path):
    make_msmt(tmp_path / "MSMT17_V1", "train", "test")
    ds = build_dataset("msmt17", tmp_path, include_val=False)
    assert ds.num_train_pids == 2
    assert ds.root == tmp_path / "MSMT17_V1"


def test_v2_mask_folders_and_ex_suffix(tmp_path):
    make_msmt(tmp_path / "MSMT17_V2", "mask_train_v2", "mask_test_v2", suffix="_ex")
    ds = build_dataset("msmt", tmp_path)
    assert "V2" in ds.protocol
    assert ds.train[0].path.parent.parent.name == "mask_train_v2"
    assert ds.num_train_pids == 3


def test_missing_list_file_names_it(tmp_path):
    root = make_msmt(tmp_path, "train", "test")
    (root / "list_gallery.txt").unlink()
    with pytest.raises(DatasetLayoutError, match=r"list_gallery\.txt is missing"):
        load_msmt17(root)


def test_no_image_folders_shows_layout(tmp_path):
    with pytest.raises(DatasetLayoutError, match="mask_train_v2/"):
        load_msmt17(tmp_path)


def test_malformed_list_line_gives_file_and_line(tmp_path):
    lists = {**LISTS, "list_query.txt": ["0000/0000_000_14_0303morning_1118_1.jpg"]}
    root = make_msmt(tmp_path, "train", "test", lists=lists)
    with pytest.raises(ValueError, match=r"list_query\.txt:1: line"):
        load_msmt17(root)


def test_bad_msmt_name_quotes_rule():
    with pytest.raises(BadNameError, match=r"'0000_000_01_0303evening_0015_0\.jpg'.*<date>"):
        parse_msmt17_name(Path("0000_000_01_0303evening_0015_0.jpg"), 0)
