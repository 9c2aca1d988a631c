"""``reid pretrain``: a backbone trained on a tiny PETA-layout tree, exported with its checksum,
then a run that starts from it, the training-free floor, and the errors on a missing or altered
file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from reid_lib.cli import main
from reid_lib.engine import load_checkpoint, load_config, machine
from reid_lib.engine.experiment import train
from reid_lib.engine.machine import numerics_fingerprint
from reid_lib.engine.pretrained_weights import (
    COMMITTED_BACKBONE,
    check_pretrained,
    pretraining_label,
    sha256_file,
    sidecar_path,
)
from reid_lib.engine.pretraining import backbones_like_this_machine, compare_with_committed
from reid_lib.models.backbone import build_backbone

TINY = [
    "model.backbone=resnet18",
    "data.height=64",
    "data.width=32",
    "data.num_workers=0",
    "sampler.num_identities=2",
    "sampler.num_instances=2",
    "schedule.epochs=1",
    "schedule.warmup_epochs=0",
    "schedule.milestones=[]",
    "run.progress=false",
]


def peta_tree(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for folder, names in (
        ("TownCentre", [f"{pid}_{frame}.jpg" for pid in range(1, 5) for frame in range(4)]),
        ("SARC3D", [f"00{pid}_{v}.png" for pid in (1, 2) for v in ("front", "back", "left")]),
    ):
        (root / folder).mkdir(parents=True)
        for name in names:
            pixels = rng.integers(0, 255, (40, 20, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / folder / name)
    return root


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("pretrain")
    tree = peta_tree(tmp / "peta")
    args = ["pretrain", *TINY, f"data.root={tree}", f"run.output_dir={tmp / 'runs'}"]
    args.append(f"run.results_dir={tmp / 'results'}")
    assert main(args) == 0
    return tmp / "runs" / "pretrained" / "peta-resnet18.pt"


def test_the_export_is_the_trained_backbone_with_its_checksum(pretrained):
    sidecar = json.loads(sidecar_path(pretrained).read_text())
    assert sidecar["sha256"] == sha256_file(pretrained)
    record = pretrained.parents[2] / "results" / "pretrained"
    record /= f"peta-resnet18-{sidecar['sha256'][:12]}.json"
    assert json.loads(record.read_text()) == sidecar, "the record the repository commits"
    assert sidecar["train_set"]["name"] == "peta_training"
    assert (sidecar["train_set"]["num_ids"], sidecar["train_set"]["num_images"]) == (6, 22)
    assert sidecar["epochs"] == 1 and sidecar["config"]["model"]["arch"] == "resnet_global"
    assert sidecar["numerics"] == numerics_fingerprint()
    capability = torch.backends.cpu.get_cpu_capability()
    assert sidecar["device"].startswith("cpu: ") and f" {capability}, " in sidecar["device"]
    run = pretrained.parents[1] / "pretrain" / "peta_training" / "peta-resnet18"
    trained = load_checkpoint(run / "last.pt")["model"]
    backbone = build_backbone("resnet18", pretrained).state_dict()
    assert torch.equal(backbone["layer4.1.conv2.weight"], trained["backbone.layer4.1.conv2.weight"])
    assert pretraining_label(str(pretrained)) == f"peta-resnet18 sha256:{sidecar['sha256'][:12]}"


def test_a_finished_pretraining_is_not_trained_again(pretrained, capsys):
    run = pretrained.parents[1] / "pretrain" / "peta_training" / "peta-resnet18"
    before = (run / "last.pt").stat().st_mtime_ns
    config = load_checkpoint(run / "last.pt")["config"]
    assert main(["pretrain", "--config", str(run / "config.yaml")]) == 0, "its saved config"
    assert (run / "last.pt").stat().st_mtime_ns == before
    assert config["data"]["dataset"] == "peta_training"
    out = capsys.readouterr().out
    assert "pretrained backbone:" in out
    assert "it differs from the committed backbone weights/peta-resnet18.pt" in out, "a tiny run"
    # The first export recorded this machine's fingerprint in the results folder of the config.
    checksum = json.loads(sidecar_path(pretrained).read_text())["sha256"][:12]
    line = f"numerics fingerprint of this machine: {numerics_fingerprint()}; records in "
    assert line in out and f"made on a machine with it: {checksum}\n" in out


def test_a_finished_pretraining_keeps_its_records_against_another_folder_or_config(
    pretrained, tmp_path, capsys
):
    """Run again with another data folder or another training setting, ``reid pretrain``
    refuses in one line and rewrites neither record, nor the weights."""
    runs = pretrained.parents[1]
    (record,) = (runs.parent / "results" / "pretrained").glob("peta-resnet18-*.json")
    kept = {path: path.read_bytes() for path in (pretrained, sidecar_path(pretrained), record)}
    common = [*TINY, f"run.output_dir={runs}", f"run.results_dir={record.parents[1]}"]
    other = peta_tree(tmp_path / "other")
    (other / "TownCentre" / "1_0.jpg").unlink()
    assert main(["pretrain", *common, f"data.root={other}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the backbone was trained on peta_training with manifest" in err
    original = json.loads(sidecar_path(pretrained).read_text())["config"]["data"]["root"]
    assert main(["pretrain", *common, f"data.root={original}", "optim.lr=0.1"]) == 2
    err = capsys.readouterr().err
    assert "was trained under another config" in err and "optim.lr: checkpoint" in err
    for path, content in kept.items():
        assert path.read_bytes() == content, path


def test_a_weights_file_without_a_record_is_recorded_by_its_checksum_not_its_path(
    pretrained, tmp_path
):
    bare = tmp_path / "somebodys-resnet18.pt"
    bare.write_bytes(pretrained.read_bytes())
    check_pretrained(str(bare))
    label = pretraining_label(str(bare))
    assert label == f"somebodys-resnet18 sha256:{sha256_file(bare)[:12]}"
    assert str(tmp_path) not in label
    broken = tmp_path / "broken.pt"
    broken.write_bytes(pretrained.read_bytes())
    sidecar_path(broken).write_text("{not json")
    with pytest.raises(ValueError, match=r"broken\.json: not a backbone record"):
        check_pretrained(str(broken))


def test_records_are_matched_by_the_numerics_fingerprint(tmp_path):
    for name, numerics in (("a", "f1"), ("b", "f2"), ("c", "f1"), ("old", None)):
        record = {"sha256": f"{name * 12}ffff", **({"numerics": numerics} if numerics else {})}
        (tmp_path / f"{name}.json").write_text(json.dumps(record))
    assert backbones_like_this_machine(tmp_path, "f1") == ["aaaaaaaaaaaa", "cccccccccccc"]
    assert backbones_like_this_machine(tmp_path, "f3") == []
    assert backbones_like_this_machine(tmp_path / "absent", "f1") == []


def test_a_missing_or_altered_file_is_one_line_naming_the_cure(
    pretrained, tmp_path, capsys, monkeypatch
):
    with pytest.raises(FileNotFoundError, match=r"make a pretrained backbone with 'reid pretrain'"):
        check_pretrained(str(tmp_path / "absent.pt"))
    with monkeypatch.context() as patch:
        patch.chdir(tmp_path)  # not the root of a clone
        with pytest.raises(FileNotFoundError, match=r"the repository commits it: run from the"):
            check_pretrained(COMMITTED_BACKBONE)
    altered = tmp_path / "copy.pt"
    altered.write_bytes(pretrained.read_bytes() + b"x")
    sidecar_path(altered).write_text(sidecar_path(pretrained).read_text())
    with pytest.raises(ValueError, match=r"the file changed after it was exported"):
        check_pretrained(str(altered))
    args = ["train", "--config", "smoke", f"model.pretrained={tmp_path / 'absent.pt'}"]
    args.append(f"run.output_dir={tmp_path}")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "reid pretrain" in err
    assert not (tmp_path / "data").exists(), "checked before any data is made"


@pytest.mark.slow
def test_a_run_from_the_backbone_records_it_and_the_floor_trains_nothing(pretrained, tmp_path):
    common = [f"run.output_dir={tmp_path / 'runs'}", f"run.results_dir={tmp_path / 'results'}"]
    cfg = load_config("smoke", [*common, f"model.pretrained={pretrained}", "run.name=warm"])
    train(cfg)
    warm = json.loads((tmp_path / "results" / "smoke" / "synthetic" / "warm.json").read_text())
    assert warm["run"]["pretraining"] == pretraining_label(str(pretrained))
    floor = load_config("smoke", [*common, "model.arch=colour_histogram", "run.name=floor"])
    result = train(floor)
    data = json.loads(Path(result.results_path).read_text())
    assert (data["epoch"], data["run"]["pretraining"], result.epochs_completed) == (0, None, 0)
    assert data["provenance"]["numerics"] == numerics_fingerprint(), "the machine that fitted it"
    assert data["dataset"]["manifest_sha256"] == warm["dataset"]["manifest_sha256"]
    assert 0 < data["metrics"]["single_query"]["mAP"] <= 1
    assert not list((tmp_path / "runs" / "smoke" / "synthetic" / "floor").glob("*.pt"))


def test_the_numerics_fingerprint_is_stable_and_leaves_the_random_state_alone():
    machine._fingerprint.cache_clear()  # computed here, not remembered from another test
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    first = numerics_fingerprint()
    assert torch.equal(torch.rand(3), expected), "the global generator is untouched"
    assert numerics_fingerprint() == first
    assert len(first) == 12 and int(first, 16) >= 0


def test_a_rebuilt_backbone_is_compared_with_the_committed_one_byte_for_byte(pretrained, tmp_path):
    same = tmp_path / "same.pt"
    same.write_bytes(pretrained.read_bytes())
    assert compare_with_committed(same, pretrained).startswith("it is the committed backbone")
    other = tmp_path / "other.pt"
    other.write_bytes(pretrained.read_bytes() + b"\0")
    line = compare_with_committed(other, pretrained)
    assert line.startswith("it differs from the committed backbone") and "against" in line
    absent = tmp_path / "absent.pt"
    line = compare_with_committed(same, absent)
    assert line == f"there is no committed backbone {absent} here to compare it with"


def test_the_committed_backbone_is_intact_and_the_cpu_preset_starts_from_it():
    root = Path(__file__).resolve().parents[1]
    assert load_config("cpu").model.pretrained == COMMITTED_BACKBONE
    weights = root / COMMITTED_BACKBONE
    sidecar = json.loads(sidecar_path(weights).read_text())
    assert sha256_file(weights) == sidecar["sha256"]
    record = root / "results" / "pretrained" / f"peta-resnet18-{sidecar['sha256'][:12]}.json"
    assert json.loads(record.read_text()) == sidecar, "its record beside the results"
    assert sidecar["config"]["run"]["deterministic"] and not sidecar["git_dirty"]
    backbone = build_backbone("resnet18", str(weights))
    assert sum(p.numel() for p in backbone.parameters()) > 11_000_000
