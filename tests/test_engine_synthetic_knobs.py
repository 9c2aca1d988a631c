"""The engine's synthetic set: preset plus ``data.synthetic_knobs``, one folder per setting."""

from __future__ import annotations

import pytest

from reid_lib.data.synthetic import PRESETS
from reid_lib.engine.config import ConfigError, apply_overrides, load_config
from reid_lib.engine.experiment import synthetic_config, synthetic_folder_name


def test_knobs_replace_only_the_named_nuisances():
    cfg = apply_overrides(load_config("smoke"), ["data.synthetic_knobs={occlusion: 1.0}"])
    config = synthetic_config(cfg)
    assert config.knobs.occlusion == 1.0
    assert config.knobs.lighting == PRESETS["tiny"].knobs.lighting
    assert config.num_ids == PRESETS["tiny"].num_ids


def test_folder_name_tells_the_settings_apart():
    cfg = load_config("smoke", ["data.synthetic_seed=3", "run.seed=5"])
    assert synthetic_folder_name(cfg) == "synthetic-tiny-seed3"
    knobs = apply_overrides(cfg, ["data.synthetic_knobs={occlusion: 1, clutter: 0}"])
    assert synthetic_folder_name(knobs) == "synthetic-tiny-seed3-clutter0-occlusion1"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data.synthetic_knobs={glare: 1.0}", r"data\.synthetic_knobs: unknown knob.*glare"),
        ("data.synthetic_knobs={occlusion: 2.0}", r"data\.synthetic_knobs: .*occlusion"),
        ("data.synthetic_preset=huge", r"data\.synthetic_preset='huge'"),
    ],
)
def test_bad_knobs_and_presets_name_the_config_key(override, message):
    with pytest.raises(ConfigError, match=message):
        synthetic_config(load_config("smoke", [override]))
