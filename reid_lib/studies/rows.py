"""The study rows (``ablations.yaml`` beside this file) and the config each gives under a profile.

A row is a list of config overrides applied on top of a profile's preset (the full model); a
study is a list of rows that one of the paper's ablation tables compares. A run of a row carries
the row's name in ``run.row``, which its results file records (``reid_lib.engine.results``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from reid_lib.data.registry import SMALL_REAL_SETS, dataset_folder
from reid_lib.engine.config import Config, ConfigError, load_config
from reid_lib.models.names import CLOSED_FORM
from reid_lib.strict_yaml import read_yaml

ABLATIONS = Path(__file__).resolve().parent / "ablations.yaml"
#: Datasets whose runs also evaluate multi-query (the only one of the paper's with gt_bbox images).
MULTI_QUERY_DATASETS = ("market1501",)
#: The rows of the paper's main ablation (each module alone, and all of them).
CORE_ROWS = ("baseline", "nl", "msg", "wdp", "full")
#: The rows the dataset comparisons train on every dataset.
COMPARED_ROWS = ("baseline", "full")
#: The joint-training diagnosis (*Datasets*): the baseline trained jointly with each batch drawn
#: from one set, beside the baseline tested after AdaBN (``DIAGNOSIS_ROWS``); and the baseline
#: trained for twice the cpu preset's epochs, jointly and on each set alone, and jointly with a
#: per-set softmax; on the first splits of the joint study.
SET_BATCHES_ROW = "baseline-set-batches"
LONGER_ROW = "baseline-24-epochs"
SET_SOFTMAX_ROW = "baseline-24-epochs-set-softmax"
DIAGNOSIS_ROWS = ("baseline", SET_BATCHES_ROW)
DIAGNOSIS_SPLITS = 3
#: The two models also ranked on their training split (how well they fit the people they trained
#: on), as ``(row, joint?)``: the 24-epoch baseline alone, and jointly with a per-set softmax.
FIT_MODELS = ((LONGER_ROW, False), (SET_SOFTMAX_ROW, True))
#: The rows each small real set runs first, on every split: the floor, LOMO + XQDA and the core
#: study's ends.
PRIORITY_ROWS = ("colour-histogram", "lomo-xqda", "baseline", "full")
#: The study of the paper's Fig. 9 (the full model beside the global and part-based models): after
#: the core study, the sweep trains its rows before every other study's.
COMPARISON_STUDY = "comparison models"
#: The studies only the synthetic set runs (a small real set's images are 128 pixels high or
#: less, and the MSG branch sets are the paper's tuning, not its claims).
SYNTHETIC_ONLY_STUDIES = ("MSG branches", "image size")


def _load_ablations(path: Path) -> dict:
    data = read_yaml(path)
    rows = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(rows, dict) or not all(isinstance(v, list) for v in rows.values()):
        raise ValueError(f"{path}: expected 'rows:', a mapping of row name -> list of overrides")
    studies = data.get("studies")
    if not isinstance(studies, dict) or not all(isinstance(v, list) for v in studies.values()):
        raise ValueError(f"{path}: expected 'studies:', a mapping of study name -> list of rows")
    for study, names in studies.items():
        unknown = [name for name in names if name not in rows]
        if unknown:
            raise ValueError(f"{path}: study {study!r} names rows {unknown} that 'rows' lacks")
    return data


def load_rows(path: Path = ABLATIONS) -> dict[str, list[str]]:
    """The study rows: name -> config overrides on top of the profile's preset."""
    return _load_ablations(path)["rows"]


def load_studies(path: Path = ABLATIONS) -> dict[str, list[str]]:
    """The studies: name -> the rows it compares, in the order the book shows them."""
    return _load_ablations(path)["studies"]


def closed_form_rows(path: Path = ABLATIONS) -> tuple[str, ...]:
    """The rows whose model is fitted in closed form (``model.arch`` in
    :data:`~reid_lib.models.names.CLOSED_FORM`): no seed changes what their runs measure."""
    archs = {f"model.arch={arch}" for arch in CLOSED_FORM}
    return tuple(row for row, overrides in load_rows(path).items() if archs & set(overrides))


def study_rows(path: Path = ABLATIONS) -> tuple[str, ...]:
    """The rows some study compares, in the order ``rows`` lists them: every row but the
    joint-training diagnosis's (:data:`SET_BATCHES_ROW`, :data:`LONGER_ROW`,
    :data:`SET_SOFTMAX_ROW`)."""
    named = {row for rows in load_studies(path).values() for row in rows}
    return tuple(row for row in load_rows(path) if row in named)


def real_set_studies(path: Path = ABLATIONS) -> dict[str, list[str]]:
    """The studies the small real sets run: all but :data:`SYNTHETIC_ONLY_STUDIES`."""
    studies = load_studies(path)
    return {study: rows for study, rows in studies.items() if study not in SYNTHETIC_ONLY_STUDIES}


def studies_on(dataset: str, path: Path = ABLATIONS) -> dict[str, list[str]]:
    """The studies that ``dataset`` runs: :func:`real_set_studies` on a small real set, else
    all of them."""
    return real_set_studies(path) if dataset in SMALL_REAL_SETS else load_studies(path)


def real_set_rows(path: Path = ABLATIONS) -> tuple[str, ...]:
    """The rows the small real sets run: :data:`PRIORITY_ROWS`, then the rows of their studies
    (:func:`real_set_studies`), in the order of the studies."""
    rows = dict.fromkeys(PRIORITY_ROWS)
    for names in real_set_studies(path).values():
        rows.update(dict.fromkeys(names))
    return tuple(rows)


def real_root(dataset: str, data_root: Path | None = None) -> str:
    """``data.root`` of a real dataset: its folder under ``data_root``, or, for None, the folder
    alone (read under ``$REID_DATA_ROOT``)."""
    folder = dataset_folder(dataset)
    return str(Path(data_root) / folder) if data_root else folder


def row_config(
    profile: str, overrides: Sequence[str], dataset: str | None = None, extra: Sequence[str] = ()
) -> Config:
    """The config of one row: the profile's preset, the row's overrides, then the dataset's.

    A real dataset's ``data.root`` defaults to its folder under ``$REID_DATA_ROOT``
    (``reid_lib.data.registry.dataset_folder``); ``extra`` overrides come last.

    Raises:
        ConfigError: the row cannot be built under the profile (the message says why).
    """
    overrides = list(overrides)
    if dataset is not None:
        overrides.append(f"data.dataset={dataset}")
        if dataset != "synthetic":
            overrides.append(f"data.root={real_root(dataset)}")
        if dataset in MULTI_QUERY_DATASETS:
            overrides.append("eval.multi_query=true")
    return load_config(profile, [*overrides, *extra])


def row_configs(
    rows: dict[str, list[str]], profile: str, dataset: str | None = None, extra: Sequence[str] = ()
) -> dict[str, Config | ConfigError]:
    """Each row's config under ``profile``, or the ``ConfigError`` that says why it cannot be
    built (:func:`row_config`)."""
    configs: dict[str, Config | ConfigError] = {}
    for row, overrides in rows.items():
        try:
            configs[row] = row_config(profile, overrides, dataset, extra)
        except ConfigError as err:
            configs[row] = err
    return configs


def infeasible(configs: dict[str, Config | ConfigError]) -> dict[str, str]:
    """The rows of :func:`row_configs` that cannot be built: row -> why."""
    return {
        row: str(config).removeprefix("override: ")
        for row, config in configs.items()
        if isinstance(config, ConfigError)
    }


def equivalent(configs: dict[str, Config | ConfigError]) -> dict[str, str]:
    """The rows of :func:`row_configs` whose config equals an earlier row's: row -> that row."""
    first: dict[str, str] = {}
    same = {}
    for row, config in configs.items():
        if isinstance(config, ConfigError):
            continue
        key = json.dumps(config.to_dict(), sort_keys=True)
        if key in first:
            same[row] = first[key]
        else:
            first[key] = row
    return same


def infeasible_rows(
    rows: dict[str, list[str]], profile: str, dataset: str | None = None
) -> dict[str, str]:
    """Rows that cannot be built under ``profile``: row -> why (the config's own message).

    For example, the part branch cuts the stage4 map (1/16 of the image height) into
    ``num_parts`` stripes, so 8 parts do not fit the 64-pixel images of ``smoke``.
    """
    return infeasible(row_configs(rows, profile, dataset))


def equivalent_rows(
    rows: dict[str, list[str]], profile: str, dataset: str | None = None, extra: Sequence[str] = ()
) -> dict[str, str]:
    """Rows whose config equals an earlier row's under ``profile``: row -> that earlier row.

    Rows that cannot be built under ``profile`` (:func:`infeasible_rows`) are left out.
    """
    return equivalent(row_configs(rows, profile, dataset, extra))
