"""VIPeR, PRID 2011, GRID and CAVIAR4REID on hand-made trees in their layouts (empty files)."""

from pathlib import Path

import pytest

from reid_lib.data import BadNameError, DatasetLayoutError, build_dataset
from reid_lib.data.protocol_splits import cache_dir_for
from reid_lib.metrics import evaluate


def touch(folder: Path, names) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).touch()
    return folder


def ids_of(records) -> set[int]:
    return {r.extra.get("orig_pid", r.pid) for r in records}


VIPER_FLAT = [f"{i:03d}_{45 * (i % 5)}_{c}.bmp" for i in range(10) for c in (1, 2)]


@pytest.mark.parametrize("layout", ["flat", "cam_a/cam_b"])
def test_viper_protocol(tmp_path, layout):
    if layout == "flat":
        touch(tmp_path, VIPER_FLAT)
    else:
        touch(tmp_path / "cam_a", [f"{i:03d}_45.bmp" for i in range(10)])
        touch(tmp_path / "cam_b", [f"{i:03d}_90.bmp" for i in range(10)])
    ds = build_dataset("viper", tmp_path, split_index=2)
    train, test = ids_of(ds.train), ids_of(ds.query)
    assert len(train) == len(test) == 5 and not train & test
    assert ids_of(ds.gallery) == test
    assert {r.camid for r in ds.query} == {0} and {r.camid for r in ds.gallery} == {1}
    assert len(ds.train) == 10
    assert (cache_dir_for(tmp_path) / "viper_splits_seed0.json").is_file()
    assert not list(tmp_path.rglob("*.json")), "nothing is written into the dataset folder"
    assert "split 2 of 10" in ds.summary()


def test_viper_person_000_is_queried_and_scored_on_every_split(tmp_path):
    # VIPeR numbers its first person 000; Market-1501's distractor id is 0 too. Every test person,
    # 000 included, is a query with one true match: a perfect distance scores every query.
    touch(tmp_path, VIPER_FLAT)
    in_test = 0
    for split in range(10):
        ds = build_dataset("viper", tmp_path, split_index=split)
        q_pids = [r.pid for r in ds.query]
        g_pids = [r.pid for r in ds.gallery]
        perfect = [[0.0 if q == g else 1.0 for g in g_pids] for q in q_pids]
        result = evaluate(
            perfect, q_pids, g_pids, [r.camid for r in ds.query], [r.camid for r in ds.gallery]
        )
        assert result.num_valid_queries == len(q_pids) == 5
        assert result.rank(1) == 1.0
        in_test += 0 in q_pids
    assert in_test > 0, "person 000 fell in no test half: the test checks nothing"


def test_viper_splits_differ_between_indices_and_repeat_for_same_seed(tmp_path):
    touch(tmp_path, VIPER_FLAT)
    first = [ids_of(build_dataset("viper", tmp_path, split_index=i).query) for i in range(10)]
    (cache_dir_for(tmp_path) / "viper_splits_seed0.json").unlink()
    again = [ids_of(build_dataset("viper", tmp_path, split_index=i).query) for i in range(10)]
    assert first == again
    assert len({frozenset(s) for s in first}) > 1
    other = [
        ids_of(build_dataset("viper", tmp_path, seed=1, split_index=i).query) for i in range(10)
    ]
    assert (cache_dir_for(tmp_path) / "viper_splits_seed1.json").is_file()
    assert other != first


def test_viper_id_missing_in_one_camera(tmp_path):
    touch(tmp_path, [*VIPER_FLAT, "011_45_1.bmp"])
    with pytest.raises(ValueError, match="VIPeR id 11 has 1 cam_a and 0 cam_b images"):
        build_dataset("viper", tmp_path)


def test_viper_bad_name_quotes_rule(tmp_path):
    touch(tmp_path, [*VIPER_FLAT, "011_45_3.bmp"])
    with pytest.raises(
        BadNameError, match=r"'011_45_3\.bmp' breaks the VIPeR \(flat\) naming rule"
    ):
        build_dataset("viper", tmp_path)


def test_viper_cam_b_missing_shows_layout(tmp_path):
    touch(tmp_path / "cam_a", ["000_45.bmp"])
    with pytest.raises(DatasetLayoutError, match="cam_b is missing"):
        build_dataset("viper", tmp_path)


def test_prid_protocol(tmp_path):
    # cam a: ids 1-7, cam b: ids 1-12; shared 1-7, cam-b-only 8-12.
    touch(
        tmp_path, [f"{i:04d}_a.png" for i in range(1, 8)] + [f"{i:04d}_b.png" for i in range(1, 13)]
    )
    (tmp_path / "0013_a.png").touch()  # a cam-a-only id: never used
    ds = build_dataset("prid2011", tmp_path, split_index=1)
    train, test = ids_of(ds.train), ids_of(ds.query)
    assert len(train) == 3 and len(test) == 4 and not train & test
    assert train | test == set(range(1, 8))
    assert {r.camid for r in ds.train} == {0, 1} and len(ds.train) == 6
    assert {r.camid for r in ds.query} == {0}
    assert ids_of(ds.gallery) == test | set(range(8, 13))
    assert {r.camid for r in ds.gallery} == {1}
    assert 13 not in ids_of(ds.train) | ids_of(ds.query) | ids_of(ds.gallery)


def test_prid_bad_camera_letter(tmp_path):
    touch(tmp_path, ["0001_a.png", "0001_c.png"])
    with pytest.raises(BadNameError, match=r"'0001_c\.png'.*'<id>_<cam>\.png'"):
        build_dataset("prid", tmp_path)


GRID_NAMES = [
    "0001_1_25004_107_32_106_221.jpeg",
    "0001_2_25023_116_134_128_330.jpeg",
    "0002_5_25008_169_19_94_224.jpeg",
    "0002_4_25027_160_75_118_274.jpeg",
    "0003_2_25008_57_44_97_265.jpeg",
    "0003_3_25025_98_125_134_336.jpeg",
    "0004_1_25072_204_72_106_277.jpeg",
    "0004_2_25055_247_60_53_177.jpeg",
    "0251_1_25698_101_16_87_246.jpeg",
    "0252_5_26113_116_13_72_212.jpeg",
]


def test_grid_protocol(tmp_path):
    touch(tmp_path, GRID_NAMES)
    ds = build_dataset("grid", tmp_path)
    train, test = ids_of(ds.train), ids_of(ds.query)
    assert len(train) == len(test) == 2 and train | test == {1, 2, 3, 4}
    assert len(ds.train) == 4
    assert ids_of(ds.gallery) == test | {251, 252}
    for pid in test:
        low, high = sorted(
            (r for r in ds.query + ds.gallery if r.pid == pid), key=lambda r: r.camid
        )
        assert low in ds.query and high in ds.gallery
    record = next(r for r in ds.gallery if r.pid == 251)
    assert (record.camid, record.extra) == (
        0,
        {"frame": 25698, "x": 101, "y": 16, "w": 87, "h": 246},
    )


def test_grid_id_with_two_images_in_one_camera(tmp_path):
    touch(tmp_path, [*GRID_NAMES, "0251_1_25700_1_1_1_1.jpeg"])
    with pytest.raises(ValueError, match="GRID id 251 has images"):
        build_dataset("grid", tmp_path)


def caviar_names(two_camera: int, one_camera: int) -> list[str]:
    names = [f"{i:04d}_{k:03d}.jpg" for i in range(1, two_camera + 1) for k in range(1, 21)]
    first = two_camera + 1
    return names + [
        f"{i:04d}_{k:03d}.jpg" for i in range(first, first + one_camera) for k in range(1, 11)
    ]


def test_caviar_half_protocol(tmp_path):
    touch(tmp_path, caviar_names(6, 2))
    ds = build_dataset("caviar4reid", tmp_path, split_index=4)
    test = ids_of(ds.query)
    assert len(test) == 3 and ids_of(ds.gallery) == test
    assert ids_of(ds.train) == ({1, 2, 3, 4, 5, 6} - test) | {7, 8}
    assert {r.camid for r in ds.query} == {0} and {r.camid for r in ds.gallery} == {1}
    assert sorted(r.extra["index"] for r in ds.query if r.pid == min(test)) == list(range(1, 11))
    assert len(ds.train) == 3 * 20 + 2 * 10


def test_caviar_all_test_protocol(tmp_path):
    touch(tmp_path, caviar_names(4, 3))
    ds = build_dataset("caviar", tmp_path, protocol="all_test")
    assert ids_of(ds.query) == {1, 2, 3, 4}
    assert ids_of(ds.train) == {5, 6, 7}
    assert not list(tmp_path.glob("*.json"))


def test_caviar_unknown_protocol(tmp_path):
    with pytest.raises(ValueError, match="protocol='third': expected 'half' or 'all_test'"):
        build_dataset("caviar", tmp_path, protocol="third")


def test_caviar_index_out_of_range_breaks_rule(tmp_path):
    touch(tmp_path, [*caviar_names(2, 0), "0001_021.jpg"])
    with pytest.raises(BadNameError, match=r"'0001_021\.jpg'"):
        build_dataset("caviar", tmp_path)


def test_prid_official_single_shot_layout_found_from_archive_root(tmp_path):
    shot = tmp_path / "prid_2011" / "single_shot"
    touch(shot / "cam_a", [f"person_{i:04d}.png" for i in range(1, 6)])
    touch(shot / "cam_b", [f"person_{i:04d}.png" for i in range(1, 9)])
    ds = build_dataset("prid2011", tmp_path)
    assert ds.root == shot
    assert ids_of(ds.train) | ids_of(ds.query) == {1, 2, 3, 4, 5}
    assert ids_of(ds.gallery) == ids_of(ds.query) | {6, 7, 8}


def test_grid_official_probe_gallery_layout(tmp_path):
    probe = ["0001_2_25023_116_134_128_330.jpeg", "0002_5_25008_169_19_94_224.jpeg"]
    gallery = [
        "0001_1_25004_107_32_106_221.jpeg",
        "0002_4_25027_160_75_118_274.jpeg",
        "0000_1_25698_101_16_87_246.jpeg",
        "0000_5_26113_116_13_72_212.jpeg",
    ]
    touch(tmp_path / "underground_reid" / "probe", probe)
    touch(tmp_path / "underground_reid" / "gallery", gallery)
    ds = build_dataset("grid", tmp_path)
    (test_id,) = ids_of(ds.query)
    assert [r.path.name for r in ds.query] == [{1: probe[0], 2: probe[1]}[test_id]]
    assert sorted(r.pid for r in ds.gallery) == [0, 0, test_id]
    assert "probe/ image" in ds.protocol


def test_viper_found_inside_archive_folder(tmp_path):
    touch(tmp_path / "VIPeR" / "cam_a", ["000_0.bmp", "001_90.bmp"])
    touch(tmp_path / "VIPeR" / "cam_b", ["000_180.bmp", "001_90.bmp"])
    assert build_dataset("viper", tmp_path).root == tmp_path / "VIPeR"


def test_folder_without_images_shows_layout(tmp_path):
    (tmp_path / "notes.txt").write_text("no images here")
    with pytest.raises(DatasetLayoutError, match=r"no image files in .*\n.*<id>_<index>\.jpg"):
        build_dataset("caviar4reid", tmp_path)
