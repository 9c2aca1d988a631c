"""Seeded random id splits: partition, determinism, JSON save/reuse, read-only fallback."""

import json
import os
import re

import pytest

from reid_lib.data.protocol_splits import (
    SPLITS_DIR_ENV,
    cache_dir_for,
    load_or_make_splits,
    random_id_splits,
    select_split,
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


def test_json_saved_next_to_data_and_reused(tmp_path):
    splits, path = load_or_make_splits(tmp_path, "toy", IDS, 10, seed=5)
    assert path == tmp_path / "toy_splits_seed5.json"
    content = json.loads(path.read_text())
    assert content["ids"] == IDS and content["seed"] == 5
    assert [tuple(s["train"]) for s in content["splits"]] == [s.train for s in splits]
    # A hand-edited file is what gets used from now on.
    content["splits"][0] = {"train": IDS[10:], "test": IDS[:10]}
    path.write_text(json.dumps(content))
    reused, reused_path = load_or_make_splits(tmp_path, "toy", IDS, 10, seed=5)
    assert reused_path == path
    assert reused[0].train == tuple(IDS[10:])
    assert reused[1:] == splits[1:]


def test_file_that_does_not_match_the_data_is_an_error(tmp_path):
    load_or_make_splits(tmp_path, "toy", IDS, 10)
    with pytest.raises(ValueError, match=r"toy_splits_seed0\.json: split 0 does not partition"):
        load_or_make_splits(tmp_path, "toy", [*IDS, 21], 10)


def test_broken_file_is_an_error(tmp_path):
    (tmp_path / "toy_splits_seed0.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a splits file"):
        load_or_make_splits(tmp_path, "toy", IDS, 10)


def test_read_only_data_folder_falls_back_to_cache_with_warning(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv(SPLITS_DIR_ENV, str(tmp_path / "cache"))
    data.chmod(0o555)
    try:
        with pytest.warns(UserWarning, match="is read-only; saving the toy splits to"):
            _, path = load_or_make_splits(data, "toy", IDS, 10)
    finally:
        data.chmod(0o755)
    assert path == cache_dir_for(data) / "toy_splits_seed0.json"
    assert path.is_relative_to(tmp_path / "cache")
    assert os.listdir(data) == []
    # Found again in the cache, without a warning.
    assert load_or_make_splits(data, "toy", IDS, 10)[1] == path


def test_split_index_out_of_range_names_the_file(tmp_path):
    splits, path = load_or_make_splits(tmp_path, "toy", IDS, 10, num_splits=3)
    with pytest.raises(
        ValueError, match=re.escape(f"split_index=3 is out of range: {path} holds 3")
    ):
        select_split(splits, 3, path)
