"""Training engine: configuration, loop, checkpoints, provenance and results files.

What the command line (``reid``) and the book use is exported here; the submodules hold one
concern each (``config``, ``experiment``, ``trainer``, ``checkpoint``, ``evaluation``,
``results``, ``provenance``, ``reproducibility``, ``schedule``, ``distributed``, ``cost_report``).
"""

from reid_lib.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "BEST": "checkpoint",
        "CheckpointError": "checkpoint",
        "LAST": "checkpoint",
        "load_checkpoint": "checkpoint",
        "apply_overrides": "config",
        "check_rules": "config",
        "Config": "config",
        "ConfigError": "config",
        "from_dict": "config",
        "load_config": "config",
        "PRESETS": "config",
        "save_yaml": "config",
        "build_loss": "experiment",
        "build_model_from_config": "experiment",
        "DATA_ROOT_ENV": "experiment",
        "evaluate_checkpoint": "experiment",
        "load_dataset": "experiment",
        "train": "experiment",
        "trained_model": "experiment",
        "git_state": "provenance",
        "seed_everything": "reproducibility",
        "knob_label": "results",
        "METRIC_KEYS": "results",
        "NO_KNOB": "results",
        "results_path": "results",
        "ResultsSchemaError": "results",
        "validate_results": "results",
        "VARIANTS": "results",
        "FitResult": "trainer",
        "NonFiniteLossError": "trainer",
        "resolve_device": "trainer",
        "Trainer": "trainer",
    },
)
