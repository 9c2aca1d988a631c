"""Config: YAML and override round-trips, presets, and the error paths."""

from __future__ import annotations

import pytest
import yaml

from reid_lib.engine.config import (
    PRESETS,
    Config,
    ConfigError,
    apply_overrides,
    from_dict,
    load_config,
    load_yaml,
    preset_path,
    save_yaml,
    valid_keys,
)


@pytest.mark.parametrize("name", PRESETS)
def test_presets_load_and_round_trip_through_yaml(name, tmp_path):
    cfg = load_config(name)
    assert cfg.run.profile == name
    path = save_yaml(cfg, tmp_path / "saved.yaml")
    assert load_yaml(path) == cfg
    assert set(yaml.safe_load(path.read_text())) == set(Config().to_dict())


def test_full_preset_is_the_spec_recipe():
    cfg = load_config("full")
    assert (cfg.data.height, cfg.data.width) == (256, 128)
    assert cfg.model.backbone == "resnet50"
    assert (cfg.sampler.num_identities, cfg.sampler.num_instances) == (16, 4)
    assert (cfg.optim.name, cfg.optim.lr, cfg.optim.weight_decay) == ("adam", 3.5e-4, 5e-4)
    s = cfg.schedule
    assert (s.epochs, s.warmup_epochs, s.warmup_factor, s.milestones) == (120, 10, 0.1, (40, 70))
    assert cfg.run.amp == "auto"
    m = cfg.model
    assert (m.wdp, m.part_fusion, m.num_parts, m.wdp_shared_fc) == (True, "adaptive", 6, True)
    assert (cfg.eval.rerank_k1, cfg.eval.rerank_k2, cfg.eval.rerank_lambda) == (20, 6, 0.3)


def test_preset_files_are_shipped_as_package_data():
    for name in PRESETS:
        assert preset_path(name).is_file()


def test_overrides_are_typed_and_round_trip(tmp_path):
    cfg = apply_overrides(
        Config(),
        [
            "optim.lr=1e-4",
            "schedule.milestones=[20, 30]",
            "model.wdp=false",
            "model.part_fusion=fixed",
            "eval.rerank_k1=15",
            "model.non_local=false",
            "run.name=abc",
            "optim.weight_decay=0",
        ],
    )
    assert cfg.optim.lr == 1e-4 and isinstance(cfg.optim.lr, float)
    assert cfg.schedule.milestones == (20, 30)
    assert (cfg.model.wdp, cfg.model.part_fusion, cfg.eval.rerank_k1) == (False, "fixed", 15)
    assert cfg.model.non_local is False
    assert cfg.optim.weight_decay == 0.0 and isinstance(cfg.optim.weight_decay, float)
    assert load_yaml(save_yaml(cfg, tmp_path / "c.yaml")) == cfg
    assert Config().optim.lr == 3.5e-4, "overrides must not change the input config"


def test_partial_yaml_keeps_defaults(tmp_path):
    path = tmp_path / "partial.yaml"
    path.write_text("optim:\n  lr: 0.01\n")
    cfg = load_config(str(path), ["sampler.num_instances=2"])
    assert cfg.optim.lr == 0.01
    assert cfg.sampler.num_instances == 2
    assert cfg.model == Config().model


@pytest.mark.parametrize(
    ("override", "suggestion"),
    [
        ("optim.lrr=0.1", "'optim.lr'"),
        ("modle.tsa=true", "'model.tsa'"),
        ("schedule.milestone=[1]", "'schedule.milestones'"),
    ],
)
def test_unknown_key_suggests_nearest(override, suggestion):
    with pytest.raises(ConfigError, match=f"did you mean {suggestion}"):
        apply_overrides(Config(), [override])


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("optim.lr=fast", "optim.lr"),
        ("run.seed=1.5", "run.seed"),
        ("model.non_local=maybe", "model.non_local"),
        ("model.backbone=resnet99", "model.backbone"),
        ("model.wdp=sometimes", "model.wdp"),
        ("schedule.milestones=[a, 2]", r"schedule.milestones\[0\]"),
        ("sampler.num_instances=true", "sampler.num_instances"),
    ],
)
def test_type_mismatch_names_the_key(override, key):
    with pytest.raises(ConfigError, match=f"config key '{key}'"):
        apply_overrides(Config(), [override])


def test_bad_yaml_names_the_file_and_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("optim:\n  lr: [1, 2]\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: config key 'optim\.lr'"):
        load_yaml(path)
    path.write_text("optimiser:\n  lr: 0.1\n")
    with pytest.raises(ConfigError, match="did you mean 'optim'"):
        load_yaml(path)


def test_missing_file_and_unknown_preset():
    with pytest.raises(ConfigError, match="does not exist"):
        load_config("nowhere/cfg.yaml")
    with pytest.raises(ConfigError, match="did you mean 'smoke'"):
        load_config("smok")


def test_string_keys_keep_the_text_as_written():
    cfg = apply_overrides(Config(), ["run.name=007", "data.root=data: here", "run.device=cpu"])
    assert (cfg.run.name, cfg.data.root, cfg.run.device) == ("007", "data: here", "cpu")


def test_invalid_yaml_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("optim: [unclosed\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml: not valid YAML"):
        load_yaml(path)


@pytest.mark.parametrize(
    ("text", "key", "lines"),
    [
        ("model:\n  wdp: false\noptim:\n  lr: 0.1\nmodel:\n  msg: false\n", "model", (1, 5)),
        ("optim:\n  lr: 0.1\n  name: adam\n  lr: 0.2\n", "lr", (2, 4)),
    ],
    ids=["a section twice", "a key twice in a section"],
)
def test_a_key_written_twice_is_refused_not_replaced(tmp_path, text, key, lines):
    path = tmp_path / "twice.yaml"
    path.write_text(text)
    first, second = lines
    with pytest.raises(
        ConfigError, match=rf"twice\.yaml: .*key '{key}' appears twice .*lines {first} and {second}"
    ):
        load_yaml(path)


def test_malformed_override():
    with pytest.raises(ConfigError, match=r"key\.sub=value"):
        apply_overrides(Config(), ["optim.lr"])


def test_valid_keys_cover_every_section():
    keys = valid_keys()
    assert "model.backbone" in keys and "run.seed" in keys and "eval.rerank" in keys
    assert from_dict({}) == Config()


def test_synthetic_knobs_is_a_typed_mapping_that_round_trips(tmp_path):
    cfg = apply_overrides(Config(), ["data.synthetic_knobs={occlusion: 1, lighting: 0.25}"])
    assert cfg.data.synthetic_knobs == {"occlusion": 1.0, "lighting": 0.25}
    assert isinstance(cfg.data.synthetic_knobs["occlusion"], float)
    assert load_yaml(save_yaml(cfg, tmp_path / "c.yaml")).data.synthetic_knobs == {
        "occlusion": 1.0,
        "lighting": 0.25,
    }
    with pytest.raises(ConfigError, match=r"'data\.synthetic_knobs': expected a mapping"):
        apply_overrides(Config(), ["data.synthetic_knobs=[1, 2]"])
    with pytest.raises(ConfigError, match=r"data\.synthetic_knobs\.occlusion"):
        apply_overrides(Config(), ["data.synthetic_knobs={occlusion: high}"])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model.num_parts=6"], r"model\.num_parts=6 needs images at least 96 pixels high"),
        (["data.height=16", "model.num_parts=2"], r"data\.height=16 \(1 stage4 rows\)"),
        (["model.num_parts=1"], r"model\.num_parts=1: expected at least 2"),
        (
            ["model.arch=pcb", "model.pcb_stripes=6"],
            r"model\.pcb_stripes=6 needs images at least 96",
        ),
        (["model.arch=pcb", "model.pcb_stripes=0"], r"model\.pcb_stripes=0 .* use 1 to 4 stripes"),
    ],
)
def test_parts_are_checked_against_the_image_height_when_loaded(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config("smoke", overrides)


def test_the_part_rule_holds_only_with_the_part_branch(tmp_path):
    cfg = load_config("smoke", ["model.wdp=false", "model.num_parts=6"])
    assert (cfg.model.wdp, cfg.model.num_parts) == (False, 6)
    assert load_config("smoke", ["data.height=96", "model.num_parts=6"]).model.num_parts == 6
    assert load_config("smoke", ["model.arch=pcb"]).model.pcb_stripes == 4, "all 4 rows of smoke"
    assert load_config("cpu", ["model.arch=pcb"]).model.pcb_stripes == 6, "Sun et al.'s six"
    path = tmp_path / "tall_parts.yaml"
    path.write_text("data: {height: 64}\nmodel: {num_parts: 8}\n")
    with pytest.raises(ConfigError, match=r"tall_parts\.yaml: model\.num_parts=8"):
        load_yaml(path)


def test_the_comparison_models_are_checked_against_the_image_height():
    assert load_config("smoke", ["model.arch=hpm"]).model.hpm_bins == (1, 2, 4)
    with pytest.raises(
        ConfigError, match=r"model\.hpm_bins=\[1, 2, 4, 8\] needs images at least 128"
    ):
        load_config("smoke", ["model.arch=hpm", "model.hpm_bins=[1, 2, 4, 8]"])
    with pytest.raises(ConfigError, match=r"model\.pcb_stripes=6 needs images at least 96"):
        load_config("smoke", ["model.arch=pcb", "model.pcb_stripes=6"])
    pcb = load_config("smoke", ["model.arch=pcb", "model.num_parts=6", "model.wdp=false"])
    assert pcb.model.num_parts == 6, "the paper model's part count is not PCB's"
    assert load_config("smoke", ["model.arch=resnet_global", "model.num_parts=6"]).model.arch


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("schedule.gamma=-0.1", r"schedule\.gamma=-0\.1: expected a finite number > 0"),
        ("optim.lr=.nan", r"optim\.lr=nan: expected a finite number > 0"),
        ("optim.lr=0", r"optim\.lr=0\.0: expected a finite number > 0"),
        ("schedule.epochs=0", r"schedule\.epochs=0: expected an integer >= 1"),
        ("sampler.num_instances=1", r"needs at least 2 images per identity"),
        ("sampler.num_identities=1", r"needs at least 2 identities per batch"),
        ("data.num_workers=-1", r"data\.num_workers=-1: expected >= 0"),
        ("schedule.warmup_factor=0", r"warmup_factor=0\.0: expected a number in \(0, 1\]"),
        ("data.dataset=toy", r"data\.dataset: unknown dataset 'toy'; expected one of"),
        ("run.name=../..", r"run\.name='\.\./\.\.': expected one folder name"),
        ("run.name=a/b", r"run\.name='a/b'"),
        ("run.name=.hidden", r"run\.name='\.hidden'"),
    ],
)
def test_out_of_range_values_are_refused_when_the_config_loads(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config("smoke", [override])


def test_a_joint_set_named_twice_is_refused():
    """``[viper, viper]`` would train 632 classes from 316 people, each under two labels."""
    with pytest.raises(ConfigError, match=r"data\.joint_sets=\['viper', 'viper'\]: .*each once"):
        load_config("smoke", ["data.dataset=joint", "data.joint_sets=[viper, viper]"])
    assert load_config("smoke", ["data.dataset=joint", "data.joint_sets=[viper, grid]"])


def test_a_per_set_softmax_needs_a_joint_training_set():
    message = r"loss\.per_set_softmax=true with data\.dataset='synthetic': .*data\.dataset=joint"
    with pytest.raises(ConfigError, match=message):
        load_config("smoke", ["loss.per_set_softmax=true"])
    assert load_config(
        "smoke", ["data.dataset=joint", "loss.per_set_softmax=true"]
    ).loss.per_set_softmax


def test_batches_from_one_set_need_a_joint_training_set():
    message = (
        r"sampler\.one_set_per_batch=true with data\.dataset='synthetic': .*data\.dataset=joint"
    )
    with pytest.raises(ConfigError, match=message):
        load_config("smoke", ["sampler.one_set_per_batch=true"])
    cfg = load_config("smoke", ["data.dataset=joint", "sampler.one_set_per_batch=true"])
    assert cfg.sampler.one_set_per_batch


def test_the_triplet_rules_apply_only_with_a_triplet_loss():
    single = ["sampler.num_instances=1"]
    assert load_config("smoke", [*single, "loss.weight_tri=0"]).sampler.num_instances == 1
    pcb = [*single, "model.arch=pcb", "loss.weight_tri=0"]
    assert load_config("smoke", pcb).model.arch == "pcb", "PCB as Sun et al. train it"
    with pytest.raises(ConfigError, match=r"sampler\.num_instances=1: the batch-hard triplet"):
        load_config("smoke", [*single, "model.arch=pcb"])


def test_rules_are_checked_on_the_config_the_overrides_complete(tmp_path):
    path = tmp_path / "short.yaml"
    path.write_text("data: {height: 64}\n")
    with pytest.raises(ConfigError, match=r"short\.yaml: model\.num_parts=6 needs images"):
        load_config(str(path))
    assert load_config(str(path), ["model.num_parts=2"]).model.num_parts == 2
