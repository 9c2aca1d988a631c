"""build_dataset: names, aliases and kwargs reach the right loader."""

import pytest

from reid_lib.data import build_dataset
from reid_lib.data.factory import DATASETS, dataset_spec
from reid_lib.data.market1501 import load_market1501


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Market-1501", "market1501"),
        ("market", "market1501"),
        ("DukeMTMC-reID", "dukemtmc_reid"),
        ("duke", "dukemtmc_reid"),
        ("MSMT17", "msmt17"),
        ("VIPeR", "viper"),
        ("prid", "prid2011"),
        ("PRID_2011", "prid2011"),
        ("GRID", "grid"),
        ("caviar", "caviar4reid"),
        ("synthetic", "synthetic"),
    ],
)
def test_names_and_aliases(name, key):
    assert dataset_spec(name) is DATASETS[key]


def test_unknown_name_lists_known_ones():
    with pytest.raises(ValueError, match=r"unknown dataset 'cuhk03'; expected one of .*market1501"):
        build_dataset("cuhk03", "/nowhere")


def test_market_loader_is_registered():
    assert DATASETS["market1501"].load is load_market1501


def test_kwargs_reach_the_loader(tmp_path):
    for name in ("0001_a.png", "0001_b.png", "0002_a.png", "0002_b.png", "0003_b.png"):
        (tmp_path / name).touch()
    ds = build_dataset("prid", tmp_path, split_index=3, splits_dir=tmp_path / "s")
    assert "split 3 of 10" in ds.protocol
