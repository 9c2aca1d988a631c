"""From a :class:`~reid_lib.engine.config.Config` to a finished run: data, model, loss, trainer.

:func:`train` is what ``reid train`` and ``torchrun -m reid_lib.train`` call;
:func:`evaluate_checkpoint` is ``reid eval``. The dataset is located and loaded before anything
else, so that a wrong path fails before any model is built or any epoch runs.

Dataset location (ours): ``data.root`` when given (a relative path is looked up under
``$REID_DATA_ROOT`` when that is set, else under the working folder); for ``data.dataset=synthetic``
with no root, the ``data.synthetic_preset`` set (with ``data.synthetic_knobs``) is generated once
into ``<run.output_dir>/data/synthetic-<preset>-seed<data.synthetic_seed>[-<knob><value>...]`` and
reused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from reid_lib.data import build_dataset
from reid_lib.data.decode_check import check_decodable
from reid_lib.data.factory import dataset_spec, has_protocol_splits
from reid_lib.data.loaders import build_train_loader
from reid_lib.data.records import Record, ReIDDataset
from reid_lib.data.synthetic import MANIFEST, SyntheticConfig, generate_synthetic, verify_synthetic
from reid_lib.data.synthetic import PRESETS as SYNTHETIC_PRESETS
from reid_lib.engine.checkpoint import (
    BEST,
    LAST,
    check_compatible,
    load_training_checkpoint,
)
from reid_lib.engine.config import Config, ConfigError, apply_overrides, from_dict
from reid_lib.engine.distributed import (
    SINGLE_PROCESS,
    DistInfo,
    barrier,
    init_distributed,
    shutdown,
)
from reid_lib.engine.evaluation import embed_records, evaluate_model
from reid_lib.engine.machine import device_description, numerics_label, training_numerics
from reid_lib.engine.metrics_log import METRICS_LOG
from reid_lib.engine.pretrained_weights import check_pretrained
from reid_lib.engine.reproducibility import seed_everything
from reid_lib.engine.results import (
    check_replaceable,
    make_results,
    results_path,
    write_results,
)
from reid_lib.engine.trainer import FitResult, Trainer, resolve_device
from reid_lib.file_lock import exclusive_lock
from reid_lib.losses import BranchLoss, ReIDLoss
from reid_lib.models import build_any_model
from reid_lib.models.lomo_xqda import LomoXqda
from reid_lib.models.names import CLOSED_FORM

DATA_ROOT_ENV = "REID_DATA_ROOT"


def dataset_root(cfg: Config, info: DistInfo = SINGLE_PROCESS) -> Path:
    """The folder to read the dataset from; generates the synthetic set when it is missing.

    A synthetic set is checked against its manifest (the SHA-256 over its images) each time, so
    a set whose files were changed, added or removed is never trained or tested on.

    Raises:
        ValueError: a synthetic set that does not match its manifest.
        FileNotFoundError: the folder does not exist (the message names it and the config key).
        ConfigError: a real dataset with no ``data.root``.
    """
    data = cfg.data
    if data.root:
        root = Path(data.root).expanduser()
        env = os.environ.get(DATA_ROOT_ENV)
        if not root.is_absolute() and env:
            root = Path(env) / root
        if not root.is_dir():
            raise FileNotFoundError(
                f"data.root={data.root!r}: the folder {root} does not exist; expected the "
                f"{data.dataset!r} dataset there (relative paths are read under ${DATA_ROOT_ENV}"
                f"{'=' + env if env else ', which is unset'})"
            )
        return root
    if data.dataset != "synthetic":
        raise ConfigError(
            f"data.root is empty for dataset {data.dataset!r}; set data.root=PATH "
            f"(relative paths are read under ${DATA_ROOT_ENV})"
        )
    root = Path(cfg.run.output_dir) / "data" / synthetic_folder_name(cfg)
    if info.is_main:
        if not (root / MANIFEST).is_file():
            generate_once(root, cfg)
        try:
            verify_synthetic(root)
        except ValueError as err:
            raise ValueError(f"{err}; delete {root} and it is generated again") from None
    barrier(info)
    return root


def generate_once(root: Path, cfg: Config) -> None:
    """Generate the synthetic set of ``cfg`` into ``root`` unless another process did.

    Generation runs under a lock beside ``root``, into a staging folder that is renamed to
    ``root`` when complete, so two runs that both need the set never write into one folder, and
    a folder at ``root`` always holds a whole set with its manifest.
    """
    lock = root.with_name(f".{root.name}.lock")
    with exclusive_lock(lock, wait=True):
        if (root / MANIFEST).is_file():
            return
        staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=root.parent))
        try:
            generate_synthetic(
                staging,
                synthetic_config(cfg),
                preset=cfg.data.synthetic_preset,
                seed=cfg.data.synthetic_seed,
                overwrite=True,
            )
            if root.exists():  # a set left incomplete by a run of an older version
                shutil.rmtree(root)
            staging.rename(root)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def synthetic_config(cfg: Config) -> SyntheticConfig:
    """The synthetic preset ``data.synthetic_preset`` with ``data.synthetic_knobs`` applied.

    Raises:
        ConfigError: an unknown preset or knob (the message names the config key).
    """
    data = cfg.data
    if data.synthetic_preset not in SYNTHETIC_PRESETS:
        raise ConfigError(
            f"data.synthetic_preset={data.synthetic_preset!r}: expected one of "
            f"{list(SYNTHETIC_PRESETS)}"
        )
    try:
        return SYNTHETIC_PRESETS[data.synthetic_preset].with_knobs(**data.synthetic_knobs)
    except ValueError as err:
        raise ConfigError(f"data.synthetic_knobs: {err}") from None


def synthetic_folder_name(cfg: Config) -> str:
    """``synthetic-<preset>-seed<k>``, plus ``-<knob><value>`` per changed knob (sorted)."""
    knobs = "".join(f"-{k}{v:g}" for k, v in sorted(cfg.data.synthetic_knobs.items()))
    return f"synthetic-{cfg.data.synthetic_preset}-seed{cfg.data.synthetic_seed}{knobs}"


def load_dataset(cfg: Config, info: DistInfo = SINGLE_PROCESS) -> ReIDDataset:
    """Load ``data.dataset`` (protocol split ``data.split`` where the dataset has splits)."""
    root = dataset_root(cfg, info)
    accepted = inspect.signature(dataset_spec(cfg.data.dataset).load).parameters
    kwargs = {}
    if has_protocol_splits(cfg.data.dataset):
        kwargs["split_index"] = cfg.data.split
    if "multi_query" in accepted:
        kwargs["multi_query"] = cfg.eval.multi_query
    if "sets" in accepted:
        kwargs["sets"] = cfg.data.joint_sets
    return build_dataset(cfg.data.dataset, root, **kwargs)


def decode_cache(cfg: Config, dataset: ReIDDataset) -> Path:
    """The cache file of the test images known to decode (``reid_lib.data.decode_check``)."""
    digest = hashlib.sha256(str(Path(dataset.root).resolve()).encode()).hexdigest()[:16]
    return Path(cfg.run.output_dir) / "data" / f".decoded-{dataset.name}-{digest}.json"


def build_model_from_config(cfg: Config, num_classes: int) -> torch.nn.Module:
    """``build_any_model(num_classes, **model section)``."""
    return build_any_model(num_classes, **dataclasses.asdict(cfg.model))


def trained_model(state: dict, cfg: Config | None = None) -> torch.nn.Module:
    """The model of a loaded checkpoint ``state``, its weights restored.

    The architecture is built from ``cfg`` (default: the checkpoint's own config) without any
    pretrained weights, since the checkpoint replaces them all: a checkpoint reloads offline, with
    no weight cache, even when its run started from ImageNet weights.
    """
    cfg = from_dict(state["config"]) if cfg is None else cfg
    random_init = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, pretrained=None))
    model = build_model_from_config(random_init, state["num_classes"])
    model.load_state_dict(state["model"])
    return model


def class_groups(train: Sequence[Record]) -> torch.Tensor:
    """``[K]``: the index of each training label's set (``extra["source"]``; the sets numbered
    in the order of their labels, which is ``data.joint_sets``'), for ``loss.per_set_softmax``.

    Raises:
        ValueError: a record names no set (only joint training has several).
    """
    sources: dict[int, str] = {}
    for record in train:
        if "source" not in record.extra:
            raise ValueError(
                f"loss.per_set_softmax=true needs the training records' sets (data.dataset=joint); "
                f"{record.path} names none"
            )
        sources[record.pid] = record.extra["source"]
    order = {name: i for i, name in enumerate(dict.fromkeys(sources[p] for p in sorted(sources)))}
    return torch.tensor([order[sources[label]] for label in range(len(sources))])


def build_loss(cfg: Config, train: Sequence[Record] = ()) -> ReIDLoss | BranchLoss:
    """The loss of ``model.arch`` from the ``loss`` section: ``ReIDLoss`` for the paper's model,
    ``BranchLoss`` (``weight_ce`` and ``weight_tri``) for the models it compares with; with
    ``per_set_softmax``, over the :func:`class_groups` of the ``train`` records."""
    loss = cfg.loss
    margin = None if loss.soft_margin else loss.triplet_margin
    weights = {"ce": loss.weight_ce, "tri": loss.weight_tri}
    groups = class_groups(train) if loss.per_set_softmax else None
    common = {"epsilon": loss.label_smoothing, "margin": margin, "class_groups": groups}
    if cfg.model.arch != "tang2022":
        return BranchLoss(weights=weights, **common)
    weights |= {"msg": loss.weight_msg, "parts": loss.weight_parts}
    return ReIDLoss(weights=weights, **common)


def _image_size(cfg: Config) -> tuple[int, int]:
    return cfg.data.height, cfg.data.width


#: The lock file in a run folder: one process writes a run at a time.
RUN_LOCK = ".lock"


def train(cfg: Config, *, resume: str | Path | None = None, overwrite: bool = False) -> FitResult:
    """Run ``cfg`` to the end (or to Ctrl-C), in one process or under ``torchrun``.

    A missing or altered ``model.pretrained`` file fails first (one line that names the command
    that makes it), and so does a run folder that already holds a checkpoint, unless ``resume``
    continues it or ``overwrite`` starts it again (removing its checkpoints and log once the new
    model is built, so that a run that fails earlier loses nothing); then the data, so that a
    missing dataset fails before anything is written; rank 0, which evaluates, then decodes the
    test images once. The run folder is locked while training, and the checkpoint test is made
    again under the lock. A ``model.arch``
    no optimiser trains (the colour-histogram floor, LOMO + XQDA) is evaluated at once, after its
    closed-form fit on the training split where it has one.

    Raises:
        FileExistsError: the run folder holds a checkpoint and neither ``resume`` nor
            ``overwrite`` was given (the message names both ways on).
        LockedError: another process is writing the same run folder (same profile, dataset and
            ``run.name``).
    """
    check_pretrained(cfg.model.pretrained)
    run_dir = cfg.run_dir()
    _check_run_folder(run_dir, resume=resume, overwrite=overwrite)
    device = resolve_device(cfg.run.device)
    info = init_distributed(use_cuda=device.type == "cuda")
    try:
        device = resolve_device(cfg.run.device, info)
        seed_everything(cfg.run.seed + info.rank, deterministic=cfg.run.deterministic)
        dataset = load_dataset(cfg, info)
        if not info.is_main:
            return _fit(cfg, dataset, info, device, resume)
        tested = [*dataset.query, *dataset.gallery, *dataset.multi_query]
        check_decodable(tested, decode_cache(cfg, dataset))
        with exclusive_lock(run_dir / RUN_LOCK, wait=False, what=f"run folder {run_dir}"):
            # Again under the lock: another run of the same name may have finished since.
            _check_run_folder(run_dir, resume=resume, overwrite=overwrite)
            if cfg.model.arch in CLOSED_FORM:
                return _evaluate_closed_form(cfg, dataset, device)
            return _fit(cfg, dataset, info, device, resume, overwrite=overwrite and resume is None)
    finally:
        shutdown(info)


def _check_run_folder(run_dir: Path, *, resume: str | Path | None, overwrite: bool) -> None:
    """Refuse a run folder that holds a checkpoint, unless the run resumes or overwrites it."""
    if resume is None and not overwrite and (run_dir / LAST).is_file():
        raise FileExistsError(
            f"run folder {run_dir} already holds a checkpoint ({LAST}); continue it with "
            f"--resume {run_dir / LAST}, start it again with --overwrite, or choose another "
            "run.name"
        )


def _fit(
    cfg: Config,
    dataset: ReIDDataset,
    info: DistInfo,
    device: torch.device,
    resume: str | Path | None,
    *,
    overwrite: bool = False,
) -> FitResult:
    """Build the loader, model, loss and trainer of ``cfg`` on ``dataset``, and train.

    ``overwrite`` removes the run folder's checkpoints and log once the model is built, so that
    a run that fails before it can train leaves the old run as it was.
    """
    loader = build_train_loader(
        dataset.train,
        image_size=_image_size(cfg),
        num_ids=cfg.sampler.num_identities,
        num_instances=cfg.sampler.num_instances,
        seed=cfg.run.seed,
        num_replicas=info.world_size,
        rank=info.rank,
        num_workers=cfg.data.num_workers,
        pin_memory=device.type == "cuda",
        one_source_per_batch=cfg.sampler.one_set_per_batch,
    )
    model = build_model_from_config(cfg, dataset.num_train_pids)
    if overwrite:
        for name in (LAST, BEST, METRICS_LOG):
            (cfg.run_dir() / name).unlink(missing_ok=True)
    trainer = Trainer(
        cfg,
        model,
        build_loss(cfg, dataset.train),
        loader,
        num_classes=dataset.num_train_pids,
        device=device,
        info=info,
        evaluate_fn=(lambda m: evaluate_model(m, dataset, cfg, device)) if dataset.query else None,
        dataset=dataset,
    )
    if resume is not None:
        trainer.resume(resume)
    return trainer.fit()


def _evaluate_closed_form(cfg: Config, dataset: ReIDDataset, device: torch.device) -> FitResult:
    """Fit LOMO + XQDA on the training split's descriptors (the colour-histogram floor needs no
    fit), evaluate the model, and write its results file."""
    start = time.perf_counter()
    model = build_model_from_config(cfg, max(dataset.num_train_pids, 1)).to(device)
    if isinstance(model, LomoXqda):
        descriptors, pids, _ = embed_records(model.lomo, dataset.train, cfg, device)
        model.fit(descriptors, pids)
    metrics = evaluate_model(model, dataset, cfg, device)
    results = make_results(
        cfg,
        dataset,
        metrics,
        epoch=0,
        device=device_description(device),
        numerics=training_numerics(device),
        wall_time_s=time.perf_counter() - start,
        images_per_s=None,
    )
    path = write_results(results, cfg.run.results_dir)
    return FitResult("finished", 0, None, None, path)


#: What an evaluation turns off in a trained run's config: settings that only shaped its training
#: batches or its loss and that one test set cannot honour (batches from one set, and a per-set
#: softmax, need a joint training set). Evaluation draws no training batch and computes no loss,
#: so the config's rules on them are training rules alone.
TRAINING_ONLY = ("sampler.one_set_per_batch=false", "loss.per_set_softmax=false")


def evaluate_checkpoint(
    path: str | Path,
    *,
    rerank: bool = False,
    multi_query: bool = False,
    overrides: list[str] = (),
    results_dir: str | Path = "results",
    runs_dir: str | Path = "runs",
) -> Path:
    """Evaluate the model of checkpoint ``path`` with its own config; write its results file.

    ``overrides`` change settings such as ``data.root`` (the model section must still match).
    Files go where the caller says, never where the checkpoint's config says (a downloaded
    checkpoint does not choose where files are written): the results file under
    ``results_dir``, at ``<profile>/<dataset>/<run.name>.json``, replacing a file there only when
    it adds variants to the same numbers (:func:`~reid_lib.engine.results.check_replaceable`);
    a synthetic test set that must be generated under ``runs_dir/data`` (or
    ``run.output_dir`` among ``overrides``). Settings that only shaped training
    (:data:`TRAINING_ONLY`) are off, so a joint run trained on batches from one set can be tested
    on each set. Returns the results file's path.
    """
    state = load_training_checkpoint(path)
    trained = from_dict(state["config"], source=str(path))
    cfg = apply_overrides(
        trained,
        [
            *TRAINING_ONLY,
            f"run.output_dir={runs_dir}",
            *overrides,
            f"run.results_dir={results_dir}",
        ],
    )
    cfg.eval.rerank = cfg.eval.rerank or rerank
    cfg.eval.multi_query = cfg.eval.multi_query or multi_query
    check_compatible(state, cfg.to_dict(), state["num_classes"], path=path)
    device = resolve_device(cfg.run.device)
    dataset = load_dataset(cfg)
    model = trained_model(state, cfg)
    start = time.perf_counter()
    metrics = evaluate_model(model.to(device), dataset, cfg, device)
    results = make_results(
        cfg,
        dataset,
        metrics,
        epoch=state["epoch"],
        device=device_description(device),
        numerics=numerics_label(state.get("numerics", [None])),
        wall_time_s=state["wall_time_s"] + time.perf_counter() - start,
        images_per_s=state.get("images_per_s"),
        trained=trained,
    )
    target = results_path(cfg.run.results_dir, cfg.run.profile, cfg.data.dataset, cfg.run.name)
    if target.is_file():
        check_replaceable(target, results)
    return write_results(results, cfg.run.results_dir)
