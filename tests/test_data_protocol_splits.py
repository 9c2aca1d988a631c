"""Seeded random id splits: partition, determinism, the cached file as a check, published files,
and nothing written into the dataset folder."""

import json
import os
import re

import pytest

from reid_lib.data.protocol_splits import (
    SPLITS_DIR_ENV,
    IdSplit,
    cache_dir_for,
    load_or_make_splits,
    random_id_splits,
    select_split,
    splits_file_name,
    write_splits,
)

IDS = list(range(1, 21))


def test_splits_partition_the_ids_into_disjoint_train_and_test():
    splits = random_id_splits(IDS, 8, num_splits=10, seed=0)
    assert len(splits) == 10
    for split in splits:
        assert len(split.train) == 8 and len(split.test) == 12
        assert not set(split.train) & set(split.test)
        assert sorted(split.train + split.test) == IDS
    assert len({s.train for s in splits}) > 1


def test_same_seed_same_splits_other_seed_other_splits():
    assert random_id_splits(IDS, 10, seed=3) == random_id_splits(reversed(IDS), 10, seed=3)
    assert random_id_splits(IDS, 10, seed=3) != random_id_splits(IDS, 10, seed=4)


@pytest.mark.parametrize("num_train", [0, 20])
def test_num_train_must_leave_both_sides(num_train):
    with pytest.raises(ValueError, match=f"num_train={num_train} must be between 1 and 19"):
        random_id_splits(IDS, num_train)


def test_splits_are_cached_outside_the_data_and_the_cache_is_a_check(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv(SPLITS_DIR_ENV, str(tmp_path / "cache"))
    splits, path = load_or_make_splits(data, "toy", IDS, 10, seed=5)
    assert path == cache_dir_for(data) / "toy_splits_seed5.json"
    assert path.is_relative_to(tmp_path / "cache") and os.listdir(data) == []
    content = json.loads(path.read_text())
    assert content["ids"] == IDS and content["seed"] == 5
    assert [tuple(s["train"]) for s in content["splits"]] == [s.train for s in splits]
    assert load_or_make_splits(data, "toy", IDS, 10, seed=5) == (splits, path)
    # An edited cache is not used in silence: the seed draws the splits, the file checks them.
    content["splits"][0] = {"train": IDS[10:], "test": IDS[:10]}
    path.write_text(json.dumps(content))
    with pytest.raises(ValueError, match=r"toy_splits_seed5\.json: holds other toy splits than"):
        load_or_make_splits(data, "toy", IDS, 10, seed=5)


@pytest.mark.parametrize("where", ["next to the data", "in splits_dir"])
def test_a_published_file_is_used_as_it_is(tmp_path, where):
    drawn = random_id_splits(IDS, 10, seed=5)
    content = {"splits": [{"train": list(s.train), "test": list(s.test)} for s in drawn]}
    content["splits"][0] = {"train": IDS[10:], "test": IDS[:10]}
    data, published = tmp_path / "data", tmp_path / "published"
    folder = data if where == "next to the data" else published
    folder.mkdir(parents=True)
    (folder / "toy_splits_seed5.json").write_text(json.dumps(content))
    splits_dir = published if where == "in splits_dir" else None
    splits, path = load_or_make_splits(data, "toy", IDS, 10, seed=5, splits_dir=splits_dir)
    assert path == folder / "toy_splits_seed5.json"
    assert splits[0].train == tuple(IDS[10:]) and splits[1:] == drawn[1:]


def test_written_splits_are_read_back_as_published(tmp_path):
    mine = [IdSplit(tuple(IDS[10:]), tuple(IDS[:10])), IdSplit(tuple(IDS[:10]), tuple(IDS[10:]))]
    path = tmp_path / splits_file_name("toy", 7)
    write_splits(path, "toy", 7, mine)
    assert path.name == "toy_splits_seed7.json"
    assert json.loads(path.read_text())["num_train"] == 10
    loaded = load_or_make_splits(
        tmp_path / "data", "toy", IDS, 10, num_splits=2, seed=7, splits_dir=tmp_path
    )
    assert loaded == (mine, path)


def test_file_that_does_not_match_the_data_is_an_error(tmp_path):
    load_or_make_splits(tmp_path, "toy", IDS, 10)
    with pytest.raises(ValueError, match=r"toy_splits_seed0\.json: split 0 does not partition"):
        load_or_make_splits(tmp_path, "toy", [*IDS, 21], 10)


def test_broken_file_is_an_error(tmp_path):
    (tmp_path / "toy_splits_seed0.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a splits file"):
        load_or_make_splits(tmp_path, "toy", IDS, 10)


def test_a_read_only_data_folder_needs_no_write(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv(SPLITS_DIR_ENV, str(tmp_path / "cache"))
    data.chmod(0o555)
    try:
        _, path = load_or_make_splits(data, "toy", IDS, 10)
    finally:
        data.chmod(0o755)
    assert path == cache_dir_for(data) / "toy_splits_seed0.json" and os.listdir(data) == []


def test_split_index_out_of_range_names_the_file(tmp_path):
    splits, path = load_or_make_splits(tmp_path, "toy", IDS, 10, num_splits=3)
    with pytest.raises(
        ValueError, match=re.escape(f"split_index=3 is out of range: {path} holds 3")
    ):
        select_split(splits, 3, path)
