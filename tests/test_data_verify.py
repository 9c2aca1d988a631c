"""verify: corrupt/truncated images and bad names are reported with their paths; exit status."""

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from reid_lib.data.verify import check_image, main, verify_dataset


def write_jpeg(path: Path, colour=(200, 30, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 16), colour).save(path, format="JPEG")
    return path


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 64), (10, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def market_tree(tmp_path) -> Path:
    write_jpeg(tmp_path / "bounding_box_train" / "0002_c1s1_000451_03.jpg")
    write_jpeg(tmp_path / "bounding_box_test" / "0001_c2s1_000451_03.jpg")
    write_jpeg(tmp_path / "query" / "0001_c1s1_001051_00.jpg")
    (tmp_path / "bounding_box_test" / "Thumbs.db").write_bytes(b"not an image, not checked")
    return tmp_path


def test_clean_tree_passes(market_tree, capsys):
    assert main([str(market_tree), "--dataset", "market1501", "--no-progress"]) == 0
    assert "checked 3 images, 0 unreadable or corrupt, 0 bad names" in capsys.readouterr().out


def test_truncated_empty_and_bad_names_are_reported(market_tree, capsys):
    truncated = market_tree / "query" / "0003_c1s1_001051_00.jpg"
    truncated.write_bytes(jpeg_bytes()[:200])
    empty = market_tree / "query" / "0004_c1s1_001051_00.jpg"
    empty.touch()
    misnamed = write_jpeg(market_tree / "query" / "0005_c1_001051.jpg")
    report = verify_dataset(market_tree, "market1501")
    assert {p.path for p in report.bad_images} == {truncated, empty}
    assert [p.path for p in report.bad_names] == [misnamed]
    assert "<pid>_c<cam>s<seq>_<frame>_<box>.jpg" in report.bad_names[0].reason
    assert main([str(market_tree), "--dataset", "market", "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert f"corrupt image {truncated}" in out and f"corrupt image {empty}" in out
    assert f"bad name {misnamed}" in out


def test_check_image_accepts_a_good_image_and_names_the_error_of_a_bad_one(tmp_path):
    assert check_image(write_jpeg(tmp_path / "a.jpg")) is None
    (tmp_path / "b.jpg").write_bytes(b"garbage")
    assert "cannot identify image file" in check_image(tmp_path / "b.jpg")


def test_empty_folder_fails(tmp_path, capsys):
    assert main([str(tmp_path), "--dataset", "viper", "--no-progress"]) == 1
    assert "no image files" in capsys.readouterr().out


def test_missing_folder_and_unknown_dataset_exit_2(tmp_path, capsys):
    assert main([str(tmp_path / "absent"), "--dataset", "viper"]) == 2
    assert f"{tmp_path / 'absent'} does not exist" in capsys.readouterr().err
    assert main([str(tmp_path), "--dataset", "nope"]) == 2
    assert "unknown dataset 'nope'" in capsys.readouterr().err


@pytest.mark.real_data
@pytest.mark.skipif(not os.environ.get("REID_DATA_ROOT"), reason="REID_DATA_ROOT is unset")
@pytest.mark.parametrize(
    ("subfolder", "dataset"),
    [("real-crops/market1501", "market1501"), ("peta-reid/PRID", "prid2011")],
)
def test_shared_real_images_verify_clean(subfolder, dataset):
    root = Path(os.environ["REID_DATA_ROOT"], subfolder)
    if not root.is_dir():
        pytest.skip(f"{root} is not there")
    report = verify_dataset(root, dataset)
    assert report.ok, report.format()
