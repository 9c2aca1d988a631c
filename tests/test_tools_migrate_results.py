"""``tools.migrate_results_v2`` on bad input: one line naming the file or folder, exit 2."""

from __future__ import annotations

from tools.migrate_results_v2 import main


def test_a_corrupt_file_or_a_missing_folder_is_one_line(tmp_path, capsys):
    broken = tmp_path / "cpu" / "viper" / "full-seed0.json"
    broken.parent.mkdir(parents=True)
    broken.write_text('{"schema_version": 1, "run": ')
    assert main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{broken}: not a results file this tool can migrate" in err
    assert broken.read_text() == '{"schema_version": 1, "run": ', "the file is left as it was"
    assert main([str(tmp_path / "absent")]) == 2
    assert f"no such folder: {tmp_path / 'absent'}" in capsys.readouterr().err
