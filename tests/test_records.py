from pathlib import Path

import pytest

from reid_lib.data import EmptySplitError, Record, ReIDDataset


def _rec(pid: int, cam: int, name: str = "x.jpg") -> Record:
    return Record(Path(name), pid, cam)


def test_train_pids_are_relabelled_in_order_and_original_kept():
    ds = ReIDDataset(
        "toy",
        "/nowhere",
        train=[_rec(7, 0), _rec(3, 1), _rec(7, 1), _rec(12, 0)],
        query=[_rec(5, 0)],
        gallery=[_rec(5, 1), _rec(0, 1)],
    )
    assert [r.pid for r in ds.train] == [1, 0, 1, 2]
    assert [r.extra["orig_pid"] for r in ds.train] == [7, 3, 7, 12]
    assert [r.pid for r in ds.query] == [5]
    assert ds.num_train_pids == 3
    assert ds.num_cameras == 2


def test_summary_counts_ids_images_and_cameras(capsys):
    ds = ReIDDataset(
        "toy",
        "/nowhere",
        train=[_rec(1, 0), _rec(1, 1), _rec(2, 0)],
        query=[_rec(5, 0)],
        gallery=[_rec(5, 1), _rec(0, 2), _rec(6, 1)],
        num_junk_dropped=4,
    )
    text = ds.summary()
    assert capsys.readouterr().out.strip() == text
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines()[2:5]}
    assert rows == {"train": ["2", "3", "2"], "query": ["1", "1", "1"], "gallery": ["3", "3", "2"]}
    assert "junk images dropped (pid -1): 4" in text


def test_empty_split_raises_naming_the_split():
    with pytest.raises(EmptySplitError, match="'gallery' split is empty"):
        ReIDDataset("toy", "/nowhere", train=[_rec(1, 0)], query=[_rec(1, 1)], gallery=[])


def test_allow_empty_permits_test_only_dataset():
    ds = ReIDDataset(
        "toy", "/nowhere", train=[], query=[_rec(1, 0)], gallery=[_rec(1, 1)], allow_empty=["train"]
    )
    assert ds.num_train_pids == 0


def test_summary_shows_the_protocol_line():
    ds = ReIDDataset(
        "toy",
        "/nowhere",
        train=[_rec(1, 0)],
        query=[_rec(5, 0)],
        gallery=[_rec(5, 1)],
        protocol="split 3 of 10",
    )
    assert ds.summary().splitlines()[1] == "  protocol: split 3 of 10"
