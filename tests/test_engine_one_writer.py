"""One writer per run folder and per generated synthetic set; the test images checked first."""

from __future__ import annotations

import errno
import json
import shutil
import threading
from pathlib import Path

import pytest

import reid_lib.engine.experiment as experiment
from reid_lib.data.decode_check import check_decodable
from reid_lib.data.loaders import ImageReadError
from reid_lib.data.synthetic import MANIFEST, verify_synthetic
from reid_lib.engine import checkpoint, load_checkpoint, load_config, train
from reid_lib.engine.results import validate_results
from reid_lib.file_lock import LockedError, exclusive_lock


def _cfg(tmp_path, *overrides):
    return load_config(
        "smoke",
        [
            f"run.output_dir={tmp_path / 'runs'}",
            f"run.results_dir={tmp_path / 'results'}",
            *overrides,
        ],
    )


def test_a_second_run_with_the_same_name_refuses_while_the_first_writes(tmp_path):
    cfg = _cfg(tmp_path, "run.name=twin")
    held = exclusive_lock(cfg.run_dir() / experiment.RUN_LOCK, wait=False)
    refused = pytest.raises(LockedError, match=r"run folder .*twin is in use by another process")
    with held, refused:
        train(cfg)
    assert not (cfg.run_dir() / "last.pt").exists()


def test_two_runs_that_need_one_synthetic_set_generate_it_once(tmp_path, monkeypatch):
    calls = []
    generate = experiment.generate_synthetic

    def counted(out, *args, **kwargs):
        calls.append(out)
        return generate(out, *args, **kwargs)

    monkeypatch.setattr(experiment, "generate_synthetic", counted)
    cfg = _cfg(tmp_path)
    root = experiment.dataset_root(cfg).parent / experiment.synthetic_folder_name(cfg)
    errors = []

    def need_the_set():
        try:
            experiment.generate_once(root, cfg)
        except Exception as err:  # the test reports whatever a thread raised
            errors.append(err)

    # dataset_root above generated it once already; remove it and race two threads for it.
    shutil.rmtree(root)
    threads = [threading.Thread(target=need_the_set) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(calls) == 2, "one generation for dataset_root, one for the two racing runs"
    assert (root / MANIFEST).is_file()
    verify_synthetic(root)
    staging = [p for p in root.parent.iterdir() if p.is_dir() and p.name.startswith(".")]
    assert staging == [], "no staging folder is left behind"


def test_a_changed_synthetic_set_is_refused_at_load(tmp_path):
    cfg = _cfg(tmp_path, "run.name=changed")
    dataset = experiment.load_dataset(cfg)
    Path(dataset.gallery[3].path).write_bytes(Path(dataset.gallery[4].path).read_bytes())
    with pytest.raises(ValueError, match=r"does not match its manifest.*delete .* generated again"):
        train(cfg)
    assert not cfg.run_dir().exists()


def test_a_run_folder_with_a_checkpoint_refuses_unless_resumed_or_overwritten(tmp_path):
    cfg = _cfg(tmp_path, "run.name=again")
    train(cfg)
    first = (cfg.run_dir() / "last.pt").read_bytes()
    with pytest.raises(FileExistsError, match=r"already holds a checkpoint.*--resume.*--overwrite"):
        train(cfg)
    assert (cfg.run_dir() / "last.pt").read_bytes() == first, "nothing is lost"
    (cfg.run_dir() / "metrics.jsonl").write_text('{"event": "old"}\n')
    train(cfg, overwrite=True)
    assert "old" not in (cfg.run_dir() / "metrics.jsonl").read_text()
    assert (cfg.run_dir() / "last.pt").is_file()


def test_a_run_that_finishes_while_another_checks_its_images_is_not_trained_over(
    tmp_path, monkeypatch
):
    """The checkpoint test is made again under the lock: a twin run that finished while this one
    decoded its test images (between the first test and the lock) keeps its files."""
    cfg = _cfg(tmp_path, "run.name=twin")
    planted = b"the twin run's checkpoint"
    decode = experiment.check_decodable

    def twin_finishes_meanwhile(*args, **kwargs):
        cfg.run_dir().mkdir(parents=True, exist_ok=True)
        (cfg.run_dir() / "last.pt").write_bytes(planted)
        return decode(*args, **kwargs)

    monkeypatch.setattr(experiment, "check_decodable", twin_finishes_meanwhile)
    with pytest.raises(FileExistsError, match=r"already holds a checkpoint"):
        train(cfg)
    assert (cfg.run_dir() / "last.pt").read_bytes() == planted
    assert not (cfg.run_dir() / "config.yaml").exists()


def test_overwrite_removes_nothing_when_the_new_run_fails_before_training(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, "run.name=kept")
    train(cfg)
    kept = {name: (cfg.run_dir() / name).read_bytes() for name in ("last.pt", "metrics.jsonl")}

    def broken_model(*args, **kwargs):
        raise ValueError("the new model cannot be built")

    monkeypatch.setattr(experiment, "build_model_from_config", broken_model)
    with pytest.raises(ValueError, match="cannot be built"):
        train(cfg, overwrite=True)
    for name, content in kept.items():
        assert (cfg.run_dir() / name).read_bytes() == content, name


def test_a_corrupt_query_image_fails_before_the_first_epoch(tmp_path, monkeypatch):
    # A real dataset's files have no manifest: the decode check is what finds a corrupt one.
    synthetic = experiment.load_dataset(_cfg(tmp_path))
    market = tmp_path / "market"
    shutil.copytree(synthetic.root, market, ignore=shutil.ignore_patterns(MANIFEST))
    cfg = _cfg(tmp_path, "run.name=corrupt", "data.dataset=market1501", f"data.root={market}")
    dataset = experiment.load_dataset(cfg)
    victim = dataset.query[0].path
    Path(victim).write_bytes(b"not a jpeg")
    with pytest.raises(ImageReadError, match=rf"cannot be read, checked before training: {victim}"):
        train(cfg)
    assert not (cfg.run_dir() / "last.pt").exists()


def test_the_decode_check_remembers_what_decoded(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path)
    dataset = experiment.load_dataset(cfg)
    records = [*dataset.query, *dataset.gallery]
    cache = experiment.decode_cache(cfg, dataset)
    assert check_decodable(records, cache) == len(records)
    assert check_decodable(records, cache) == 0, "a second check decodes nothing"
    Path(records[0].path).write_bytes(Path(records[1].path).read_bytes())
    assert check_decodable(records, cache) == 1, "a changed file is decoded again"


def test_a_full_disk_leaves_the_checkpoint_and_the_results_as_they_were(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, "run.name=full-disk")
    train(cfg)
    last = cfg.run_dir() / "last.pt"
    results = tmp_path / "results" / "smoke" / "synthetic" / "full-disk.json"
    before = (last.read_bytes(), results.read_text())

    def no_space(obj, fh, *args, **kwargs):
        fh.write(b"partial bytes")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint.torch, "save", no_space)
    longer = load_config(str(cfg.run_dir() / "config.yaml"), ["schedule.epochs=2"])
    with pytest.raises(OSError, match="No space left on device"):
        train(longer, resume=last)
    assert (last.read_bytes(), results.read_text()) == before
    assert load_checkpoint(last)["epoch"] == 1
    validate_results(json.loads(results.read_text()))
    leftovers = [p.name for p in cfg.run_dir().iterdir() if p.name.endswith(".tmp")]
    assert leftovers == [], "no half-written file is left"


def test_a_lock_file_that_cannot_be_written_is_named(tmp_path, monkeypatch):
    """A full disk made the lock report '[Errno 28] No space left on device' and no file."""
    lock = tmp_path / "runs" / ".lock"

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("reid_lib.file_lock.os.write", full)
    expected = pytest.raises(OSError, match=f"lock file {lock} could not be written")
    with expected as caught, exclusive_lock(lock, wait=False):
        pass
    assert caught.value.errno == errno.ENOSPC
