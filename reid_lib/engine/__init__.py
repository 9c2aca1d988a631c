"""Training engine: configuration, loop, checkpoints, provenance and results files.

What the command line (``reid``) and the book use is exported here; the submodules hold one
concern each (``config``, ``experiment``, ``trainer``, ``checkpoint``, ``evaluation``,
``results``, ``provenance``, ``reproducibility``, ``schedule``, ``distributed``, ``cost_report``).
"""

from reid_lib.engine.checkpoint import BEST, LAST, CheckpointError, load_checkpoint
from reid_lib.engine.config import (
    PRESETS,
    Config,
    ConfigError,
    apply_overrides,
    check_rules,
    from_dict,
    load_config,
    save_yaml,
)
from reid_lib.engine.experiment import (
    DATA_ROOT_ENV,
    build_loss,
    build_model_from_config,
    evaluate_checkpoint,
    load_dataset,
    train,
    trained_model,
)
from reid_lib.engine.provenance import git_state
from reid_lib.engine.reproducibility import seed_everything
from reid_lib.engine.results import (
    METRIC_KEYS,
    NO_KNOB,
    VARIANTS,
    ResultsSchemaError,
    knob_label,
    results_path,
    validate_results,
)
from reid_lib.engine.trainer import FitResult, NonFiniteLossError, Trainer, resolve_device

__all__ = [
    "BEST",
    "DATA_ROOT_ENV",
    "LAST",
    "METRIC_KEYS",
    "NO_KNOB",
    "PRESETS",
    "VARIANTS",
    "CheckpointError",
    "Config",
    "ConfigError",
    "FitResult",
    "NonFiniteLossError",
    "ResultsSchemaError",
    "Trainer",
    "apply_overrides",
    "build_loss",
    "build_model_from_config",
    "check_rules",
    "evaluate_checkpoint",
    "from_dict",
    "git_state",
    "knob_label",
    "load_checkpoint",
    "load_config",
    "load_dataset",
    "resolve_device",
    "results_path",
    "save_yaml",
    "seed_everything",
    "train",
    "trained_model",
    "validate_results",
]
