"""The wheel holds the library alone, with the data files it reads at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_installs_reid_lib_only_with_its_data_files(tmp_path):
    command = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path)]
    subprocess.run([*command, str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("reid_lib-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {
        "reid_lib",
        wheel.name.split("-py")[0] + ".dist-info",
    }
    for data in (
        "reid_lib/data/datasets.json",
        "reid_lib/engine/presets/full.yaml",
        "reid_lib/studies/ablations.yaml",
        "reid_lib/reports/paper_findings.yaml",
        "reid_lib/reports/paper_reported.yaml",
    ):
        assert data in names
