"""PETA's training-only subsets (TownCentre, SARC3D) on a hand-made tree of empty files."""

from pathlib import Path

import pytest

from reid_lib.data import BadNameError, DatasetLayoutError, build_dataset
from reid_lib.data.factory import has_protocol_splits
from reid_lib.data.peta_training import SARC3D_PID_OFFSET
from reid_lib.engine.experiment import class_groups


def make_tree(root: Path, town=("1_10.jpg", "1_11.jpg", "2_5.jpg"), sarc=None) -> Path:
    sarc = sarc or [f"001_{v}.png" for v in ("front", "back", "left", "Right")]
    for folder, names in (("TownCentre", town), ("SARC3D", sarc)):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for name in names:
            (root / folder / name).touch()
    return root


def test_both_subsets_load_as_one_training_set_with_apart_ids(tmp_path):
    ds = build_dataset("peta_training", make_tree(tmp_path))
    assert (len(ds.train), ds.num_train_pids) == (7, 3)
    assert not ds.query and not ds.gallery
    original = {r.extra["orig_pid"] for r in ds.train}
    assert original == {1, 2, SARC3D_PID_OFFSET + 1}, "SARC3D's id 1 is not TownCentre's id 1"
    views = {r.extra["view"]: r.camid for r in ds.train if r.extra["source"] == "SARC3D"}
    assert views == {"front": 1, "back": 2, "left": 3, "right": 4}
    assert {r.camid for r in ds.train if r.extra["source"] == "TownCentre"} == {0}
    assert not has_protocol_splits("peta_training") and has_protocol_splits("viper")


def test_a_missing_subset_or_a_bad_name_is_named(tmp_path):
    (tmp_path / "TownCentre").mkdir()
    with pytest.raises(DatasetLayoutError, match=r"SARC3D is missing; expected layout"):
        build_dataset("peta_training", tmp_path)
    make_tree(tmp_path, town=("1_10.jpg", "person1.jpg"))
    with pytest.raises(BadNameError, match=r"'person1.jpg' breaks the TownCentre naming rule"):
        build_dataset("peta_training", tmp_path)


def make_viper_and_caviar(root):
    """Empty VIPeR (10 people) and CAVIAR4REID (6 people) files under ``root/peta-reid``."""
    viper = root / "peta-reid" / "VIPeR"
    caviar = root / "peta-reid" / "CAVIAR4REID"
    for folder, names in (
        (viper, [f"{i:03d}_45_{c}.bmp" for i in range(10) for c in (1, 2)]),
        (caviar, [f"{i:04d}_{k:03d}.jpg" for i in range(1, 7) for k in range(1, 21)]),
    ):
        folder.mkdir(parents=True)
        for name in names:
            (folder / name).touch()


def test_joint_training_set_is_the_union_of_the_training_splits(tmp_path):
    make_viper_and_caviar(tmp_path)
    joint = build_dataset("joint", tmp_path, split_index=3, sets=("viper", "caviar4reid"))
    parts = {
        name: build_dataset(name, tmp_path / "peta-reid" / folder, split_index=3)
        for name, folder in (("viper", "VIPeR"), ("caviar4reid", "CAVIAR4REID"))
    }
    assert len(joint.train) == sum(len(p.train) for p in parts.values())
    assert joint.num_train_pids == sum(p.num_train_pids for p in parts.values())
    for name, part in parts.items():
        mine = [r for r in joint.train if r.extra["source"] == name]
        assert {r.path for r in mine} == {r.path for r in part.train}
        assert not {r.path for r in mine} & {r.path for r in part.query}, "no test id trains"
    assert not joint.query and not joint.gallery
    with pytest.raises(ValueError, match=r"data.joint_sets=\['market1501'\]: expected some of"):
        build_dataset("joint", tmp_path, sets=("market1501",))
    with pytest.raises(ValueError, match=r"\['viper', 'viper'\]: expected .*, each once"):
        build_dataset("joint", tmp_path, sets=("viper", "viper"))


def test_each_joint_label_is_grouped_with_its_set_for_a_per_set_softmax(tmp_path):
    make_viper_and_caviar(tmp_path)
    joint = build_dataset("joint", tmp_path, split_index=0, sets=("caviar4reid", "viper"))
    groups = class_groups(joint.train)
    assert groups.shape == (joint.num_train_pids,)
    for record in joint.train:
        assert int(groups[record.pid]) == ("caviar4reid", "viper").index(record.extra["source"])
    assert groups.tolist() == sorted(groups.tolist()), "the sets' labels are contiguous"
    viper = build_dataset("viper", tmp_path / "peta-reid" / "VIPeR", split_index=0)
    with pytest.raises(ValueError, match=r"loss.per_set_softmax=true needs .*names none"):
        class_groups(viper.train)
