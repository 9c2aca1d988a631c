"""Typed experiment configuration: dataclasses, YAML, ``key.sub=value`` overrides, presets.

A :class:`Config` has one section per concern (``model``, ``loss``, ``data``, ``sampler``,
``optim``, ``schedule``, ``eval``, ``run``). Every field has a type annotation, and every value that
enters a config (from YAML or from the command line) is checked against it: a wrong type names the
key, an unknown key gets the nearest valid key suggested.

The paper states the model, not a training recipe; every default below that concerns training is
OUR choice, taken from the project's model specification (``docs/model_spec.md``, itself
following the strong ResNet-50 baselines). The
three shipped presets are YAML files in ``reid_lib/engine/presets/``:

- ``smoke``: seconds on a CPU (tiny synthetic set, ResNet-18, 64x32 images, 1 epoch), for CI;
- ``cpu``: minutes on 2 cores (synthetic small preset at 128x64, ResNet-18);
- ``full``: the spec's recipe (256x128, ResNet-50, 16x4, Adam 3.5e-4, 120 epochs, AMP) on a GPU.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from reid_lib.data.factory import dataset_spec
from reid_lib.data.registry import SMALL_REAL_SETS
from reid_lib.models.names import STAGE4_STRIDE
from reid_lib.strict_yaml import read_yaml

PRESETS = ("smoke", "cpu", "colab", "full", "pretrain")


class ConfigError(ValueError):
    """A configuration value, key or file that is not what the config expects."""


@dataclass
class ModelConfig:
    """Keyword arguments of ``reid_lib.models.build_any_model`` (see ``docs/model_spec.md``).

    ``arch`` is the paper's model (``tang2022``) or one it compares with (``resnet_ide``, the
    plain global ResNet; ``resnet_global``, Bag of Tricks; ``pcb``; ``hpm``), or one no
    optimiser trains (the colour-histogram floor ``colour_histogram``, and ``lomo_xqda``, fitted
    in closed form; both read no other key);
    ``pcb_stripes`` is PCB's stripe count (Sun et al.'s 6; the ``smoke`` preset's 64-pixel
    images allow 4) and ``hpm_bins`` HPM's pyramid.
    The other switches belong to the paper's model. ``wdp`` switches the part branch on or off;
    ``part_fusion`` says how it fuses each part with its remainder: ``plain`` (the stripes
    alone, as PCB), ``fixed`` (0.8/0.2) or ``adaptive`` (the paper's learned weights).
    ``msg_conv_bn_relu`` and ``wdp_shared_fc`` are the spec's options (ours: both on).
    """

    arch: Literal[
        "tang2022", "resnet_ide", "resnet_global", "pcb", "hpm", "colour_histogram", "lomo_xqda"
    ] = "tang2022"
    backbone: Literal["resnet18", "resnet34", "resnet50"] = "resnet50"
    pretrained: str | None = None
    non_local: bool = True
    msg: bool = True
    msg_branches: tuple[int, ...] = (1, 2, 3, 4)
    tsa: bool = True
    msg_conv_bn_relu: bool = True
    wdp: bool = True
    part_fusion: Literal["plain", "fixed", "adaptive"] = "adaptive"
    num_parts: int = 6
    wdp_shared_fc: bool = True
    hpm_bins: tuple[int, ...] = (1, 2, 4, 8)
    pcb_stripes: int = 6
    embedding: Literal["paper", "paper+msg", "paper+parts", "all"] = "paper"


@dataclass
class LossConfig:
    """Arguments of ``reid_lib.losses.ReIDLoss`` (spec: smoothing 0.1, batch-hard margin 0.3).

    ``soft_margin=true`` replaces the margin by the soft margin; the weights scale the stage
    cross-entropies, the stage triplets, the MSG and the part cross-entropies (all 1 in the spec).
    ``per_set_softmax=true`` (joint training only; ours, for the Datasets chapter's diagnosis)
    confines each image's cross-entropy to the identities of its own set.
    """

    label_smoothing: float = 0.1
    triplet_margin: float = 0.3
    soft_margin: bool = False
    weight_ce: float = 1.0
    weight_tri: float = 1.0
    weight_msg: float = 1.0
    weight_parts: float = 1.0
    per_set_softmax: bool = False


@dataclass
class DataConfig:
    """Which dataset, where it lives, and the image pipeline.

    ``root`` may be left empty: real datasets are then looked up under ``$REID_DATA_ROOT``, and the
    synthetic set is generated once under ``runs/data/``, from ``synthetic_seed`` (the data seed,
    apart from ``run.seed``: runs of several seeds share one set, so rows pair by seed).
    ``joint_sets`` are the small benchmarks that ``dataset=joint`` trains on together (its
    ``root`` is the data root, holding each in its folder). ``synthetic_knobs`` replaces some
    nuisance strengths of the synthetic preset (``{occlusion: 1.0}``; names:
    ``reid_lib.data.KNOBS``).
    """

    dataset: str = "synthetic"
    root: str | None = None
    split: int = 0
    synthetic_preset: str = "small"
    synthetic_seed: int = 0
    joint_sets: tuple[str, ...] = ("viper", "prid2011", "grid", "caviar4reid")
    synthetic_knobs: dict[str, float] = field(default_factory=dict)
    height: int = 256
    width: int = 128
    num_workers: int = 2
    test_batch_size: int = 128


@dataclass
class SamplerConfig:
    """P x K identity sampling: ``num_identities`` ids times ``num_instances`` images per batch.

    The batch is global: under DDP each of W processes draws ``num_identities / W`` identities.
    ``one_set_per_batch`` (ours; joint training only) draws each batch's identities from one of
    the joint sets (:class:`~reid_lib.data.sampler.PKSampler`'s ``sources``).
    """

    num_identities: int = 16
    num_instances: int = 4
    one_set_per_batch: bool = False


@dataclass
class OptimConfig:
    """Optimiser (spec: Adam, lr 3.5e-4, weight decay 5e-4)."""

    name: Literal["adam", "adamw", "sgd"] = "adam"
    lr: float = 3.5e-4
    weight_decay: float = 5e-4
    momentum: float = 0.9


@dataclass
class ScheduleConfig:
    """Epochs, linear warm-up and step decay (spec: 10 warm-up epochs from 0.1x, x0.1 at 40, 70)."""

    epochs: int = 120
    warmup_epochs: int = 10
    warmup_factor: float = 0.1
    milestones: tuple[int, ...] = (40, 70)
    gamma: float = 0.1


@dataclass
class EvalConfig:
    """When and how to evaluate; ``every`` = 0 evaluates only at the end.

    ``rerank_k1``, ``rerank_k2`` and ``rerank_lambda`` are k-reciprocal re-ranking's parameters
    (Zhong et al., CVPR 2017, whose defaults these are). ``adapt_bn`` (ours, off by default)
    re-estimates the batch-norm statistics on the test set's training images before testing
    (AdaBN, :mod:`reid_lib.engine.bn_adaptation`). ``train_split`` (ours, off by default) also
    ranks the training split's images among themselves, as the test protocol ranks the test
    split's: how well the model fits the people it trained on (the joint-training diagnosis).
    """

    every: int = 10
    flip: bool = True
    metric: Literal["euclidean", "cosine"] = "euclidean"
    rerank: bool = False
    rerank_k1: int = 20
    rerank_k2: int = 6
    rerank_lambda: float = 0.3
    multi_query: bool = False
    best_metric: Literal["mAP", "rank1"] = "mAP"
    adapt_bn: bool = False
    train_split: bool = False


@dataclass
class RunConfig:
    """Run identity, outputs, device and reproducibility switches.

    ``amp`` is ``"auto"`` (bf16 on a GPU of compute capability 8.0 or more, else fp16 with a
    gradient scaler; off on the CPU), ``"bf16"`` (on the CPU too), ``"fp16"`` (GPU only) or
    ``"off"``; ``channels_last`` applies on GPU only. ``compile`` runs the training forward and
    backward passes through ``torch.compile`` (off by default: ``benchmarks.train_speed`` measures
    what it gains, and compiling costs minutes at the start of every run). ``row`` names
    the study row (``studies/ablations.yaml``) a run belongs to: the sweep sets it and the results
    file records it; None for a run outside the book's studies.
    """

    name: str = "run"
    profile: str = "custom"
    row: str | None = None
    output_dir: str = "runs"
    results_dir: str = "results"
    seed: int = 0
    deterministic: bool = False
    device: str = "auto"
    amp: Literal["auto", "bf16", "fp16", "off"] = "auto"
    channels_last: bool = True
    compile: bool = False
    log_every: int = 20
    tensorboard: bool = False
    progress: bool = True


@dataclass
class Config:
    """A whole experiment. ``Config()`` is the spec's full recipe on the synthetic set."""

    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    data: DataConfig = field(default_factory=DataConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (tuples become lists), as written to YAML and into results files."""
        return _plain(dataclasses.asdict(self))

    def run_dir(self) -> Path:
        """Folder of this run's checkpoints, logs and saved config."""
        return Path(self.run.output_dir) / self.run.profile / self.data.dataset / self.run.name


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _fields(cls: type) -> dict[str, Any]:
    """Field name -> resolved type annotation of a config dataclass."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def valid_keys() -> list[str]:
    """Every dotted key a config accepts, e.g. ``"optim.lr"``."""
    return [
        f"{section}.{name}" for section, cls in _fields(Config).items() for name in _fields(cls)
    ]


def _unknown_key(key: str, candidates: list[str], what: str = "config key") -> ConfigError:
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else f"; valid: {', '.join(candidates)}"
    return ConfigError(f"unknown {what} {key!r}{hint}")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(key: str, value: Any, tp: Any) -> Any:
    """Check ``value`` against annotation ``tp`` and return it in canonical form, or raise."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(key, value, option)
            except ConfigError:
                continue
        raise ConfigError(
            f"config key {key!r}: expected {_type_name(tp)}, got {value!r} ({type(value).__name__})"
        )
    if origin is Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            raise ConfigError(f"config key {key!r}: expected one of {list(choices)}, got {value!r}")
        return value
    if origin is tuple:
        (item_tp, _ellipsis) = typing.get_args(tp)
        if not isinstance(value, list | tuple):
            raise ConfigError(
                f"config key {key!r}: expected a list of {_type_name(item_tp)}, got {value!r}"
            )
        return tuple(_coerce(f"{key}[{i}]", v, item_tp) for i, v in enumerate(value))
    if origin is dict:
        key_tp, value_tp = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"config key {key!r}: expected a mapping, got {value!r}")
        return {
            _coerce(key, k, key_tp): _coerce(f"{key}.{k}", v, value_tp) for k, v in value.items()
        }
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"config key {key!r}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config key {key!r}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"config key {key!r}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"config key {key!r}: expected a string, got {value!r}")
        return value
    raise TypeError(f"config key {key!r}: unsupported annotation {tp!r}")


def from_dict(data: dict[str, Any], *, source: str = "config", check: bool = True) -> Config:
    """Build a :class:`Config` from a nested dict; missing keys keep their defaults.

    ``check=False`` leaves out :func:`check_rules`, for a config that overrides will complete.

    Raises:
        ConfigError: unknown section or key (with the nearest valid key), a value of the wrong
            type (naming the key), or a rule broken. ``source`` names the file in the message.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of sections, got {type(data).__name__}")
    sections = _fields(Config)
    cfg = Config()
    for section, values in data.items():
        if section not in sections:
            raise ConfigError(f"{source}: {_unknown_key(section, list(sections))}")
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: section {section!r} must be a mapping, got {values!r}")
        for name, value in values.items():
            _set(cfg, f"{section}.{name}", value, source=source)
    return check_rules(cfg, source=source) if check else cfg


#: A run name is one safe path component: it names the run's folder and results file.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
#: The models whose loss has a batch-hard triplet term when ``loss.weight_tri`` is above 0.
TRIPLET_ARCHS = ("tang2022", "resnet_ide", "resnet_global", "pcb", "hpm")


def _ranges(cfg: Config) -> list[tuple[bool, str]]:
    """``(holds, key and what it needs)`` for every rule on one key's range."""
    positive = {"optim.lr": cfg.optim.lr, "schedule.gamma": cfg.schedule.gamma}
    rules = [
        (math.isfinite(value) and value > 0, f"{key}={value}: expected a finite number > 0")
        for key, value in positive.items()
    ]
    counts = {
        "schedule.epochs": cfg.schedule.epochs,
        "sampler.num_identities": cfg.sampler.num_identities,
        "sampler.num_instances": cfg.sampler.num_instances,
        "data.test_batch_size": cfg.data.test_batch_size,
        "run.log_every": cfg.run.log_every,
    }
    rules += [
        (value >= 1, f"{key}={value}: expected an integer >= 1") for key, value in counts.items()
    ]
    rules += [
        (cfg.data.num_workers >= 0, f"data.num_workers={cfg.data.num_workers}: expected >= 0"),
        (cfg.eval.every >= 0, f"eval.every={cfg.eval.every}: expected >= 0 (0: at the end only)"),
        (
            0 < cfg.schedule.warmup_factor <= 1,
            f"schedule.warmup_factor={cfg.schedule.warmup_factor}: expected a number in (0, 1]",
        ),
    ]
    rules += [
        (
            SAFE_NAME.fullmatch(value) is not None,
            f"{key}={value!r}: expected one folder name (letters, digits, '.', '_', '+', '-'; "
            "not starting with '.' or '-')",
        )
        for key, value in (("run.name", cfg.run.name), ("run.profile", cfg.run.profile))
    ]
    if cfg.data.dataset == "joint":
        rules.append(
            (
                bool(cfg.data.joint_sets)
                and set(cfg.data.joint_sets) <= set(SMALL_REAL_SETS)
                and len(set(cfg.data.joint_sets)) == len(cfg.data.joint_sets),
                f"data.joint_sets={list(cfg.data.joint_sets)}: expected some of "
                f"{list(SMALL_REAL_SETS)}, each once",
            )
        )
    rules.append(
        (
            not cfg.sampler.one_set_per_batch or cfg.data.dataset == "joint",
            f"sampler.one_set_per_batch=true with data.dataset={cfg.data.dataset!r}: it draws "
            "each batch from one of the sets of a joint training set (data.dataset=joint)",
        )
    )
    rules.append(
        (
            not cfg.loss.per_set_softmax or cfg.data.dataset == "joint",
            f"loss.per_set_softmax=true with data.dataset={cfg.data.dataset!r}: it confines each "
            "softmax to one of the sets of a joint training set (data.dataset=joint)",
        )
    )
    if cfg.model.arch in TRIPLET_ARCHS and cfg.loss.weight_tri > 0:
        rules += [
            (
                cfg.sampler.num_instances >= 2,
                f"sampler.num_instances={cfg.sampler.num_instances}: the batch-hard triplet loss "
                "needs at least 2 images per identity (or set loss.weight_tri=0)",
            ),
            (
                cfg.sampler.num_identities >= 2,
                f"sampler.num_identities={cfg.sampler.num_identities}: the batch-hard triplet "
                "loss needs at least 2 identities per batch (or set loss.weight_tri=0)",
            ),
        ]
    return rules


def check_rules(cfg: Config, *, source: str = "config") -> Config:
    """Check each key's range and the rules that span several keys; return ``cfg``.

    Ranges: a finite positive learning rate and decay factor, at least one epoch, identity,
    image and logging step, a known dataset, a run name that is one safe folder name, and, with a
    triplet loss, at least two identities and two images of each per batch. Across keys: the
    part branch cuts the stage4 map (1/16 of ``data.height``, last stride 1) into
    ``model.num_parts`` stripes, so it needs at least that many rows, and at least two parts;
    PCB's ``model.pcb_stripes`` and HPM's finest bin count (``model.hpm_bins``) need as many
    rows.

    Raises:
        ConfigError: naming the key, its value and what it needs.
    """
    for holds, message in _ranges(cfg):
        if not holds:
            raise ConfigError(f"{source}: {message}")
    try:
        dataset_spec(cfg.data.dataset)
    except ValueError as err:
        raise ConfigError(f"{source}: data.dataset: {err}") from None
    model, rows = cfg.model, cfg.data.height // STAGE4_STRIDE
    stripes = model.arch == "tang2022" and model.wdp
    if model.arch == "pcb" and not 1 <= model.pcb_stripes <= rows:
        raise ConfigError(
            f"{source}: model.pcb_stripes={model.pcb_stripes} needs images at least "
            f"{max(model.pcb_stripes, 1) * STAGE4_STRIDE} pixels high (data.height), got "
            f"data.height={cfg.data.height} ({rows} stage4 rows); use 1 to {rows} stripes"
        )
    if model.arch == "hpm" and (not model.hpm_bins or max(model.hpm_bins) > rows):
        raise ConfigError(
            f"{source}: model.hpm_bins={list(model.hpm_bins)} needs images at least "
            f"{max(model.hpm_bins, default=1) * STAGE4_STRIDE} pixels high (data.height), got "
            f"data.height={cfg.data.height} ({rows} stage4 rows); use fewer bins"
        )
    if stripes and model.num_parts < 2:
        raise ConfigError(f"{source}: model.num_parts={model.num_parts}: expected at least 2")
    if stripes and model.num_parts > rows:
        raise ConfigError(
            f"{source}: model.num_parts={model.num_parts} needs images at least "
            f"{model.num_parts * STAGE4_STRIDE} pixels high (data.height), got "
            f"data.height={cfg.data.height} ({rows} stage4 rows); lower model.num_parts or set "
            "model.wdp=false"
        )
    return cfg


def _set(cfg: Config, key: str, value: Any, *, source: str) -> None:
    section, _, name = key.partition(".")
    sections = _fields(Config)
    if section not in sections or not name:
        raise ConfigError(f"{source}: {_unknown_key(key, valid_keys())}")
    field_types = _fields(sections[section])
    if name not in field_types:
        raise ConfigError(f"{source}: {_unknown_key(key, valid_keys())}")
    try:
        coerced = _coerce(key, value, field_types[name])
    except ConfigError as err:
        raise ConfigError(f"{source}: {err}") from None
    setattr(getattr(cfg, section), name, coerced)


def apply_overrides(cfg: Config, overrides: list[str], *, check: bool = True) -> Config:
    """Return a copy of ``cfg`` with ``key.sub=value`` overrides applied.

    Values are read as YAML scalars or flow lists: ``optim.lr=1e-4``, ``model.wdp=false``,
    ``schedule.milestones=[20,30]``, ``model.non_local=false``. A string key takes the text as
    written when YAML reads something else (``run.name=007`` stays ``"007"``).
    """
    cfg = dataclasses.replace(
        cfg, **{s: dataclasses.replace(getattr(cfg, s)) for s in _fields(Config)}
    )
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"override {item!r}: expected the form key.sub=value")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            value = text
        if value is not None and not isinstance(value, str) and _takes_text(key):
            value = text
        _set(cfg, key, value, source="override")
    return check_rules(cfg, source="override") if check else cfg


def _takes_text(key: str) -> bool:
    """Whether ``key`` is a known key whose type is a free string (not a choice, not a number)."""
    section, _, name = key.partition(".")
    cls = _fields(Config).get(section)
    tp = _fields(cls).get(name) if cls is not None else None
    return tp is str or (
        typing.get_origin(tp) in (typing.Union, types.UnionType) and str in typing.get_args(tp)
    )


def load_yaml(path: str | Path, *, check: bool = True) -> Config:
    """Read a config YAML file (a partial file keeps defaults for what it leaves out).

    ``check=False`` leaves out :func:`check_rules`, for a file that overrides will complete.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist; expected a YAML file or a preset")
    try:
        data = read_yaml(path) or {}
    except ValueError as err:
        raise ConfigError(f"config file {err}") from None
    return from_dict(data, source=str(path), check=check)


def save_yaml(cfg: Config, path: str | Path) -> Path:
    """Write the full config (every key) to ``path`` as YAML."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    return path


def preset_path(name: str) -> Path:
    """Path of a shipped preset's YAML file."""
    if name not in PRESETS:
        raise _unknown_key(name, list(PRESETS), what="preset")
    return Path(str(resources.files("reid_lib.engine") / "presets" / f"{name}.yaml"))


def load_config(preset_or_path: str, overrides: list[str] = ()) -> Config:
    """Load a preset by name (one of :data:`PRESETS`) or a YAML file, then apply overrides.

    A preset sets ``run.profile`` to its own name; a file keeps what it says. The rules
    (:func:`check_rules`) are checked once, on the config the overrides complete, so a file may
    leave to them what it needs (``data.height`` in the file, ``model.num_parts`` as an override).
    """
    is_file = Path(preset_or_path).suffix in (".yaml", ".yml") or Path(preset_or_path).exists()
    if not is_file and preset_or_path not in PRESETS:
        raise ConfigError(
            f"--config {preset_or_path!r} is neither an existing YAML file nor a preset: "
            f"{_unknown_key(preset_or_path, list(PRESETS), what='preset')}"
        )
    path = Path(preset_or_path) if is_file else preset_path(preset_or_path)
    cfg = apply_overrides(load_yaml(path, check=False), list(overrides), check=False)
    return check_rules(cfg, source="override" if overrides else str(path))
