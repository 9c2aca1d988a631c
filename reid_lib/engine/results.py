"""Results files: ``<results_dir>/<profile>/<dataset>/<run name>.json``, one per evaluation.

The book builds its tables from these files alone, so each holds the metrics, the run's identity
as structured fields, and the full provenance. The layout (``schema_version`` 2)::

    {
      "schema_version": 2,
      "run": {"name": str, "profile": str, "row": str or null, "seed": int, "train_set": str,
              "knob": str or null, "pretraining": str or null},
      "epoch": int,
      "dataset": {"name": str, "split": int, "manifest_sha256": str (64 hex),
                  "num_train_ids": int, "num_query": int, "num_gallery": int},
      "metrics": {variant: {"rank1", "rank5", "rank10", "rank20", "mAP", "mINP": float in [0, 1],
                            "num_valid_queries": int}},
      "training": {"images_per_s": float or null, "epochs_completed": int},
      "provenance": {"git_commit": str or null, "git_dirty": bool or null, "config": dict,
                     "device": str, "numerics": str or null, "torch_version": str,
                     "python_version": str, "deterministic": bool, "wall_time_s": float,
                     "created_at": str (ISO 8601 UTC)}
    }

``dataset`` is the test set (its protocol split is ``dataset.split``). ``run`` says what was
tested, so that tables group by fields and never read a name: ``row`` is the study row
(``run.row`` of the config), ``train_set`` the dataset the model trained on (the test set itself,
or another one for cross-dataset transfer), ``knob`` the synthetic test set's nuisance setting when
it differs from the training set's (:func:`knob_label`; null otherwise), and ``pretraining`` the
weights the backbone started from (``model.pretrained``; an exported backbone as
``"<name> sha256:<12 hex>"``, ``reid_lib.engine.pretrained_weights.pretraining_label``). The
file's name carries no meaning.

``numerics`` is the numerics fingerprint of the CPU that trained (or fitted) the model
(``reid_lib.engine.machine.numerics_fingerprint``; several joined by ``+`` when a resume moved it
to another machine; null on a GPU or when unknown). Two machines with the same fingerprint and a
deterministic run give the same numbers; files written before the field existed lack it.

``wall_time_s`` counts the run's seconds in the trainer up to this evaluation (summed over
resumes; ``reid eval`` adds its own time). ``variant`` is ``single_query`` (always), and
``single_query_rerank``, ``multi_query``, ``multi_query_rerank``, ``single_query_adabn``
(after AdaBN, ``eval.adapt_bn``) and ``train_split`` (the training split ranked among itself,
``eval.train_split``) when asked for. Metrics are fractions, not percentages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from reid_lib.atomic_write import atomic_write
from reid_lib.data.records import ReIDDataset
from reid_lib.engine.config import Config
from reid_lib.engine.pretrained_weights import pretraining_label
from reid_lib.engine.provenance import code_state, dataset_manifest_sha256
from reid_lib.engine.run_key import RunKey
from reid_lib.json_files import read_json

SCHEMA_VERSION = 2
#: The results files under a results folder: ``<profile>/<dataset>/<run>.json`` (other files,
#: such as the pretraining records in ``pretrained/``, sit at another depth).
RESULTS_GLOB = "*/*/*.json"
#: The knob label of a synthetic test set with every nuisance knob off.
NO_KNOB = "none"
RANKS = (1, 5, 10, 20)
VARIANTS = (
    "single_query",
    "single_query_rerank",
    "multi_query",
    "multi_query_rerank",
    "single_query_adabn",
    "train_split",
)
METRIC_KEYS = (*(f"rank{r}" for r in RANKS), "mAP", "mINP")


class ResultsSchemaError(ValueError):
    """A results dict that does not follow the documented layout."""


def rank_metrics(result: Any) -> dict[str, float | int]:
    """The results-file entry of one evaluation (a ``reid_lib.metrics.RankResult``).

    CMC is 1-based in the file (``rank1`` = ``cmc[0]``); the CMC must reach rank 20.
    """
    cmc = [float(v) for v in result.cmc]
    if len(cmc) < max(RANKS):
        raise ValueError(f"result.cmc: expected at least {max(RANKS)} ranks, got {len(cmc)}")
    entry: dict[str, float | int] = {f"rank{r}": cmc[r - 1] for r in RANKS}
    entry["mAP"] = float(result.mAP)
    entry["mINP"] = float(result.mINP)
    entry["num_valid_queries"] = int(result.num_valid_queries)
    return entry


def _require(cond: bool, where: str, expected: str, value: Any) -> None:
    if not cond:
        raise ResultsSchemaError(f"results field {where!r}: expected {expected}, got {value!r}")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_types(data: Mapping[str, Any], spec: Mapping[str, tuple], prefix: str) -> None:
    for key, types_ in spec.items():
        where = f"{prefix}{key}"
        _require(key in data, where, "a value", "nothing")
        value = data[key]
        ok = any(
            (t is int and _is_int(value)) or (t is not int and isinstance(value, t)) for t in types_
        )
        names = " or ".join("null" if t is type(None) else t.__name__ for t in types_)
        _require(ok, where, names, value)


def validate_results(data: Mapping[str, Any]) -> None:
    """Check a results dict against the documented layout.

    Raises:
        ResultsSchemaError: naming the first field that is missing or wrong.
    """
    _require(isinstance(data, Mapping), "<root>", "a mapping", type(data).__name__)
    _require(
        data.get("schema_version") == SCHEMA_VERSION,
        "schema_version",
        SCHEMA_VERSION,
        data.get("schema_version"),
    )
    _check_types(
        data,
        {
            "run": (dict,),
            "epoch": (int,),
            "dataset": (dict,),
            "metrics": (dict,),
            "training": (dict,),
            "provenance": (dict,),
        },
        "",
    )
    _check_types(
        data["run"],
        {
            "name": (str,),
            "profile": (str,),
            "row": (str, type(None)),
            "seed": (int,),
            "train_set": (str,),
            "knob": (str, type(None)),
            "pretraining": (str, type(None)),
        },
        "run.",
    )
    _check_types(
        data["dataset"],
        {
            "name": (str,),
            "split": (int,),
            "manifest_sha256": (str,),
            "num_train_ids": (int,),
            "num_query": (int,),
            "num_gallery": (int,),
        },
        "dataset.",
    )
    sha = data["dataset"]["manifest_sha256"]
    _require(
        re.fullmatch(r"[0-9a-f]{64}", sha) is not None,
        "dataset.manifest_sha256",
        "64 lowercase hex digits",
        sha,
    )
    metrics = data["metrics"]
    _require("single_query" in metrics, "metrics.single_query", "a value", "nothing")
    for variant, entry in metrics.items():
        _require(variant in VARIANTS, f"metrics.{variant}", f"one of {VARIANTS}", variant)
        _require(isinstance(entry, Mapping), f"metrics.{variant}", "a mapping", entry)
        _check_types(entry, {k: (float,) for k in METRIC_KEYS}, f"metrics.{variant}.")
        _check_types(entry, {"num_valid_queries": (int,)}, f"metrics.{variant}.")
        for key in METRIC_KEYS:
            _require(
                0.0 <= entry[key] <= 1.0,
                f"metrics.{variant}.{key}",
                "a fraction in [0, 1]",
                entry[key],
            )
        cmc = [entry[f"rank{r}"] for r in RANKS]
        _require(cmc == sorted(cmc), f"metrics.{variant}", "non-decreasing rank1..rank20", cmc)
    _check_types(
        data["training"],
        {"images_per_s": (float, type(None)), "epochs_completed": (int,)},
        "training.",
    )
    _check_types(
        data["provenance"],
        {
            "git_commit": (str, type(None)),
            "git_dirty": (bool, type(None)),
            "config": (dict,),
            "device": (str,),
            "torch_version": (str,),
            "python_version": (str,),
            "deterministic": (bool,),
            "wall_time_s": (float,),
            "created_at": (str,),
        },
        "provenance.",
    )
    if "numerics" in data["provenance"]:
        _check_types(data["provenance"], {"numerics": (str, type(None))}, "provenance.")


def read_results(path: str | Path) -> dict[str, Any]:
    """The results file at ``path``, checked by :func:`validate_results`.

    Raises:
        ValueError: the file is not JSON or not the layout (the file and the field are named).
        OSError: the file cannot be read (the message names it).
    """
    try:
        data = json.loads(Path(path).read_text())
        validate_results(data)
    except ValueError as err:
        raise ValueError(f"results file {path}: {err}") from None
    return data


def results_path(results_dir: str | Path, profile: str, dataset: str, run_name: str) -> Path:
    """``<results_dir>/<profile>/<dataset>/<run_name>.json``."""
    return Path(results_dir) / profile / dataset / f"{run_name}.json"


def knob_label(knobs: Mapping[str, float]) -> str:
    """The knobs above zero, sorted and joined by ``+``; :data:`NO_KNOB` when all are off."""
    on = sorted(name for name, value in knobs.items() if value > 0)
    return "+".join(on) if on else NO_KNOB


#: How far (as a fraction) a re-evaluation may move a stored metric and still count as the same.
SAME_NUMBER = 1e-6


def check_replaceable(path: Path, new: Mapping[str, Any]) -> None:
    """Refuse to let the results ``new`` replace the file ``path`` unless it only adds to it.

    ``reid eval`` writes where the run's own results file is. That is safe when it evaluates the
    same weights on the same test and adds variants (re-ranking, multi-query): the epoch and every
    variant already stored come out the same. Anything else (another checkpoint, another test
    set, fewer variants) would replace the run's numbers with other ones.

    Raises:
        ValueError: naming the file and what would change.
    """
    old = read_json(path, "results file")
    changes = []
    if old.get("epoch") != new["epoch"]:
        changes.append(f"its epoch {old.get('epoch')} would become {new['epoch']}")
    old_metrics, new_metrics = old.get("metrics", {}), new["metrics"]
    dropped = sorted(set(old_metrics) - set(new_metrics))
    if dropped:
        changes.append(f"its variants {dropped} would be dropped")
    moved = sorted(
        variant
        for variant in set(old_metrics) & set(new_metrics)
        if any(
            abs(old_metrics[variant].get(key, -1.0) - new_metrics[variant][key]) > SAME_NUMBER
            for key in METRIC_KEYS
        )
    )
    if moved:
        changes.append(f"the numbers of {moved} would change")
    if changes:
        raise ValueError(
            f"results file {path} already holds this run, and {'; '.join(changes)}; write the "
            "new evaluation elsewhere (reid eval --results-dir DIR) or remove the file first"
        )


def write_results(data: Mapping[str, Any], results_dir: str | Path) -> Path:
    """Validate ``data`` and write it atomically to its :func:`results_path`; return the path."""
    validate_results(data)
    run = data["run"]
    path = results_path(results_dir, run["profile"], data["dataset"]["name"], run["name"])
    text = json.dumps(data, indent=2) + "\n"
    return atomic_write(path, lambda fh: fh.write(text.encode()))


def make_results(
    cfg: Config,
    dataset: ReIDDataset,
    metrics: Mapping[str, Mapping[str, float | int]],
    *,
    epoch: int,
    device: str,
    numerics: str | None,
    wall_time_s: float,
    images_per_s: float | None,
    trained: Config | None = None,
) -> dict[str, Any]:
    """Assemble a results dict (metrics from :func:`rank_metrics`) with the run's provenance.

    ``cfg`` is the evaluation's config; ``trained`` the config the model was trained under (a
    checkpoint's), None when it is ``cfg`` itself; ``numerics`` the fingerprint of the machine
    that trained it (``reid_lib.engine.machine.numerics_label``).
    """
    # Imported here, not above: the readers of results files (the report tables) load no torch.
    from reid_lib.engine.machine import environment

    git = code_state()
    trained = trained or cfg
    knobs = cfg.data.synthetic_knobs
    tested_on_other_knobs = (
        cfg.data.dataset == "synthetic" and knobs != trained.data.synthetic_knobs
    )
    key = RunKey(
        profile=cfg.run.profile,
        dataset=cfg.data.dataset,
        train_set=trained.data.dataset,
        row=cfg.run.row,
        seed=cfg.run.seed,
        split=cfg.data.split,
        knob=knob_label(knobs) if tested_on_other_knobs else None,
        pretraining=pretraining_label(trained.model.pretrained),
    )
    run_fields, dataset_fields = key.written()
    return {
        "schema_version": SCHEMA_VERSION,
        "run": {"name": cfg.run.name, **run_fields},
        "epoch": epoch,
        "dataset": {
            **dataset_fields,
            "manifest_sha256": dataset_manifest_sha256(dataset),
            "num_train_ids": dataset.num_train_pids,
            "num_query": len(dataset.query),
            "num_gallery": len(dataset.gallery),
        },
        "metrics": {k: dict(v) for k, v in metrics.items()},
        "training": {"images_per_s": images_per_s, "epochs_completed": epoch},
        "provenance": {
            "git_commit": git["commit"],
            "git_dirty": git["dirty"],
            "config": cfg.to_dict(),
            "device": device,
            "numerics": numerics,
            "torch_version": environment()["torch"],
            "python_version": environment()["python"],
            "deterministic": cfg.run.deterministic,
            "wall_time_s": float(wall_time_s),
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
    }
