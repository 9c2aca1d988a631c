"""Results files as one table: a line per file and evaluation variant, grouped by run fields.

Two sources: the engine's results files (``<root>/<profile>/<dataset>/<name>.json``, see
``reid_lib.engine.results``) and the small files the chapters write about themselves
(``<results_dir>/<chapter>.json``, see ``reid_lib.book.chapter``). Every table of the book is
built from :func:`collect_results`, whose columns are the files' structured ``run`` fields: no
table reads a file name or a run name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from reid_lib.engine.results import METRIC_KEYS, RESULTS_GLOB, read_results
from reid_lib.engine.run_key import FIELDS, RunKey
from reid_lib.json_files import read_json
from reid_lib.reports.rerun import rerun_command
from reid_lib.studies.rows import ABLATIONS, load_rows

#: The identity of a results file (:class:`~reid_lib.engine.run_key.RunKey`), in the columns of
#: :func:`collect_results`.
IDENTITY = FIELDS
COLUMNS = [*IDENTITY, "run", "variant", *METRIC_KEYS, "provenance", "re-run"]
NOT_REPRODUCED = "not yet reproduced"
_OVERVIEW_COLUMNS = ["chapter", "profile", "dataset", "device", "commit", "numbers recorded"]


def flatten(numbers: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists are kept as values."""
    flat: dict[str, Any] = {}
    for key, value in numbers.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def chapter_overview(results_dir: Path, exclude: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per chapter results file in ``results_dir``: what ran, where, how many numbers."""
    rows = []
    for path in sorted(Path(results_dir).glob("*.json")):
        data = read_json(path, "chapter results file")
        if data.get("chapter") in exclude:
            continue
        numbers = flatten(data.get("numbers", {}))
        rows.append(
            {
                "chapter": data.get("chapter", path.stem),
                "profile": data.get("profile"),
                "dataset": data.get("dataset"),
                "device": data.get("device"),
                "commit": (data.get("commit") or "unknown")[:10],
                "numbers recorded": len(numbers),
            }
        )
    return pd.DataFrame(rows, columns=_OVERVIEW_COLUMNS)


def shown(percent: float) -> str:
    """How the book shows a metric in percent: one decimal (``96.13`` -> ``"96.1"``)."""
    return f"{percent:.1f}"


def provenance_line(data: dict[str, Any]) -> str:
    """One line saying where a results file's numbers come from.

    Commit (``+dirty`` when the tree had uncommitted changes), a digest of the full config, the
    dataset manifest's checksum, the device, the numerics fingerprint of the machine that trained
    the model (when the file records it) and the time the file was written.
    """
    prov = data["provenance"]
    commit = (prov["git_commit"] or "unknown")[:10] + ("+dirty" if prov["git_dirty"] else "")
    config = hashlib.sha256(json.dumps(prov["config"], sort_keys=True).encode()).hexdigest()
    numerics = f"numerics {prov['numerics']}, " if prov.get("numerics") else ""
    return (
        f"commit {commit}, config {config[:10]}, data {data['dataset']['manifest_sha256'][:10]}, "
        f"{prov['device']}, {numerics}{prov['created_at']}"
    )


def load_result_files(results_root: Path) -> list[dict[str, Any]]:
    """Every engine results file under ``results_root`` (``<profile>/<dataset>/<run>.json``,
    sorted by path), each validated, each run once.

    Raises:
        ValueError: a file that is not JSON or does not follow the results layout, or two files
            of one run (names the files).
    """
    return [data for _, data in _result_files([results_root])]


def _result_files(roots: Sequence[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """``(path, data)`` of every results file under ``roots``, validated. Refused, with the file
    named: a study row that ``ablations.yaml`` no longer has (no table would show the run), two
    files with the same :data:`IDENTITY` fields (a copied file, or one run in two roots; and
    the same name, for runs outside the studies), which a table would count as two runs, and
    two pretrained backbones in one profile, which a table would average across. A root that is
    not a folder is refused too: a mistyped folder would otherwise read as no runs."""
    loaded, seen, rows = [], {}, load_rows()
    backbones: dict[str, tuple[str, Path]] = {}
    for root in map(Path, roots):
        if not root.is_dir():
            raise FileNotFoundError(
                f"results folder {root}: {'a file' if root.exists() else 'not there'}; expected "
                "a folder of <profile>/<dataset>/<run>.json files (the repository's results/, or "
                "a sweep's --results-dir)"
            )
        for path in sorted(root.glob(RESULTS_GLOB)):
            data = read_results(path)
            row = data["run"]["row"]
            if row is not None and row not in rows:
                raise ValueError(
                    f"results file {path}: row {row!r} is no study row of {ABLATIONS.name} (a "
                    "row renamed or removed since the run?); no table would show it"
                )
            # A run outside the studies (no row) is told apart by its name as well.
            run_name = data["run"]["name"] if data["run"]["row"] is None else None
            key = (*identity(data).values(), run_name)
            if key in seen:
                raise ValueError(
                    f"results files {seen[key]} and {path} are one run "
                    f"({', '.join(f'{k}={v}' for k, v in identity(data).items())}); "
                    "keep one of them, so that no table counts the run twice"
                )
            seen[key] = path
            _check_one_backbone(backbones, path, data)
            loaded.append((path, data))
    return loaded


def _check_one_backbone(backbones: dict[str, tuple[str, Path]], path: Path, data: dict) -> None:
    """Record in ``backbones`` (profile -> the first run's backbone and file) the pretrained
    backbone of the run in ``path``; refuse a second backbone in one profile. Runs without one
    (random initialisation, closed-form models) pair with any and are not counted."""
    run = data["run"]
    if run["pretraining"] is None:
        return
    start, first = backbones.setdefault(run["profile"], (run["pretraining"], path))
    if start != run["pretraining"]:
        raise ValueError(
            f"results files {first} and {path} started from two backbones in profile "
            f"{run['profile']!r} ({start} and {run['pretraining']}); a table would average "
            "across them: keep the runs of one backbone (archive the others)"
        )


def identity(data: dict[str, Any]) -> dict[str, Any]:
    """The :data:`IDENTITY` fields of one results file."""
    return RunKey.of(data).fields()


def _typed(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The lines ``rows`` as a table of :data:`COLUMNS`, the metrics as floats even when there is
    no line (an empty table of objects would turn another table's metrics into objects when the
    two are concatenated, and a heat map of them fails)."""
    return pd.DataFrame(rows, columns=COLUMNS).astype(dict.fromkeys(METRIC_KEYS, float))


def collect_results(results_root: Path) -> pd.DataFrame:
    """One line per results file and evaluation variant, metrics in percent, with provenance.

    ``dataset`` is the test set; ``run`` is the run's name, shown but never read; ``re-run`` the
    command that makes the file again (:func:`~reid_lib.reports.rerun.rerun_command`). Lines are
    sorted by their fields, so the order does not depend on the files' names either.

    Raises:
        ValueError: a file that does not follow the results layout, or two files of one run.
    """
    return _lines(_result_files([results_root]))


def _lines(files: list[tuple[Path, dict[str, Any]]]) -> pd.DataFrame:
    """The :func:`collect_results` table of the loaded ``files``."""
    rows = []
    for _, data in files:
        # What every variant of the file shares, computed once per file.
        shared = {**identity(data), "run": data["run"]["name"]}
        described = {"provenance": provenance_line(data), "re-run": rerun_command(data)}
        for variant, metrics in data["metrics"].items():
            rows.append(
                {
                    **shared,
                    "variant": variant,
                    **{key: 100 * metrics[key] for key in METRIC_KEYS},
                    **described,
                }
            )
    table = _typed(rows)
    order = [*IDENTITY, "variant"]
    return table.sort_values(order, na_position="first", kind="stable").reset_index(drop=True)


def results_table(roots: Sequence[Path], variant: str | None = "single_query") -> pd.DataFrame:
    """:func:`collect_results` of several roots, one evaluation variant (None: every one).

    Raises:
        ValueError: two files of one run, in one root or in two.
    """
    table = _lines(_result_files(roots))
    return table if variant is None else table[table["variant"] == variant].reset_index(drop=True)


def own_runs(table: pd.DataFrame) -> pd.DataFrame:
    """The lines of study runs tested on their own training set's test split (no knob turned)."""
    keep = table["row"].notna() & (table["train_set"] == table["dataset"]) & table["knob"].isna()
    return table[keep].reset_index(drop=True)


def seed_spread(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation and count over seeds of the study runs of a
    :func:`collect_results` table, by profile, dataset, row and variant."""
    keys = ["profile", "dataset", "row", "variant"]
    return own_runs(table).groupby(keys)[list(METRIC_KEYS)].agg(["mean", "std", "count"])
