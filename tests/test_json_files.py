"""JSON records read by the library: a damaged one is named, with what it should have been."""

from __future__ import annotations

import pytest

from reid_lib.data.synthetic import MANIFEST, verify_synthetic
from reid_lib.json_files import read_json


def test_a_damaged_json_file_is_named_with_what_it_should_be(tmp_path):
    path = tmp_path / "record.json"
    path.write_text('{"sha256": "ab", ')
    with pytest.raises(ValueError, match=rf"backbone record {path}: not valid JSON \(Expecting"):
        read_json(path, "backbone record")
    path.write_text('{"sha256": "ab"}')
    assert read_json(path, "backbone record") == {"sha256": "ab"}


def test_a_damaged_synthetic_manifest_is_named(tmp_path):
    (tmp_path / MANIFEST).write_text("")
    with pytest.raises(ValueError, match=rf"synthetic manifest {tmp_path / MANIFEST}: not valid"):
        verify_synthetic(tmp_path)
