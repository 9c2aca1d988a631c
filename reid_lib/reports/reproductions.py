"""Committed results files trained again, and whether their numbers came back.

``python -m tools.reproduce <results file> --record`` trains a committed file's run again (or
takes a re-run made elsewhere, such as ``reid train`` in a fresh clone) and writes a
*reproduction record* to ``results/reproductions/``: the committed file's path and SHA-256, and
the re-run's whole results file, with its own provenance (commit, device, numerics fingerprint).
:func:`reproductions_table` reads the records into the *Reproduction* chapter's table; nothing
in it is typed by hand. A record whose committed file has changed since says so instead of a
verdict.

A cpu run repeats bit for bit only on a machine with the same numerics fingerprint
(``reid_lib.engine.machine``); the table sets the two fingerprints beside each verdict.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from reid_lib.atomic_write import atomic_write
from reid_lib.engine.checkpoint import TRAINED_BY, config_mismatches
from reid_lib.engine.results import METRIC_KEYS, read_results, validate_results
from reid_lib.json_files import read_json

#: Points (percent) a re-run's metric may differ by and still count as reproduced.
TOLERANCE = 0.5
#: The folder of the records, under a results folder.
REPRODUCTIONS = "reproductions"
#: The version of a record's layout.
SCHEMA_VERSION = 1
#: The ``run`` fields of a results file that must agree for two files to be one run trained
#: twice (the name and the row may differ: ``reid train`` names its run after the profile).
SAME_RUN = ("profile", "seed", "train_set", "knob", "pretraining")
#: The ``dataset`` fields that must agree: the same split of the same files.
SAME_DATA = ("name", "split", "manifest_sha256")
#: The ``run`` keys of the stored config that change what a run computes.
COMPUTING_RUN_KEYS = ("seed", "deterministic", "amp", "channels_last", "compile")

COLUMNS = [
    "committed file",
    "trained on",
    "re-run on",
    "same numerics",
    "re-run commit",
    "rank1 committed",
    "rank1 re-run",
    "mAP committed",
    "mAP re-run",
    "largest difference",
    "verdict",
]


def compare_metrics(committed: Mapping[str, Any], rerun: Mapping[str, Any]) -> pd.DataFrame:
    """One line per variant the two results files share and metric (percent): committed,
    re-run and their difference (re-run minus committed)."""
    lines = []
    for variant in committed["metrics"]:
        if variant not in rerun["metrics"]:
            continue
        for key in METRIC_KEYS:
            old, new = committed["metrics"][variant][key], rerun["metrics"][variant][key]
            lines.append(
                {
                    "variant": variant,
                    "metric": key,
                    "committed": 100 * old,
                    "re-run": 100 * new,
                    "difference": 100 * (new - old),
                }
            )
    return pd.DataFrame(lines, columns=["variant", "metric", "committed", "re-run", "difference"])


def reproduction_verdict(table: pd.DataFrame, tolerance: float = TOLERANCE) -> tuple[bool, str]:
    """Whether every difference of ``table`` (:func:`compare_metrics`) is within ``tolerance``
    points, and a short phrase that says so."""
    if table.empty:
        return False, "nothing to compare: the files share no variant"
    largest = float(table["difference"].abs().max())
    if largest == 0:
        return True, "reproduced exactly"
    if largest <= tolerance:
        return True, f"reproduced within {tolerance} points"
    return False, f"not reproduced: over {tolerance} points"


def run_mismatches(committed: Mapping[str, Any], rerun: Mapping[str, Any]) -> list[str]:
    """What makes ``rerun`` another run than ``committed`` (both results files), as readable
    lines: the run's fields, the dataset split and the stored config's training, evaluation
    and computing keys; empty when the two are one run trained twice."""
    lines = [
        f"{section}.{key}: committed {committed[section][key]!r}, re-run {rerun[section][key]!r}"
        for section, keys in (("run", SAME_RUN), ("dataset", SAME_DATA))
        for key in keys
        if committed[section][key] != rerun[section][key]
    ]
    old, new = committed["provenance"]["config"], rerun["provenance"]["config"]
    lines += config_mismatches(
        old, new, sections=(*TRAINED_BY, "eval"), labels=("committed", "re-run")
    )
    old_run, new_run = old.get("run", {}), new.get("run", {})
    lines += [
        f"run.{key}: committed {old_run.get(key)!r}, re-run {new_run.get(key)!r}"
        for key in COMPUTING_RUN_KEYS
        if old_run.get(key) != new_run.get(key)
    ]
    return lines


def check_same_run(
    committed: Mapping[str, Any],
    rerun: Mapping[str, Any],
    committed_name: object,
    rerun_name: object,
) -> None:
    """Refuse a re-run that is another run than the committed file.

    Raises:
        ValueError: ``<rerun_name> is another run than <committed_name>``, with every line of
            :func:`run_mismatches`.
    """
    mismatched = run_mismatches(committed, rerun)
    if mismatched:
        raise ValueError(
            f"{rerun_name} is another run than {committed_name}: " + "; ".join(mismatched)
        )


def record_path(results_root: Path, committed: Mapping[str, Any], rerun: Mapping[str, Any]) -> Path:
    """``<results_root>/reproductions/<profile>-<dataset>-<run>-on-<fingerprint>.json``: one
    record per committed file and machine (``unknown`` where the re-run has no fingerprint)."""
    run, dataset = committed["run"], committed["dataset"]["name"]
    machine = rerun["provenance"].get("numerics") or "unknown"
    return (
        Path(results_root)
        / REPRODUCTIONS
        / f"{run['profile']}-{dataset}-{run['name']}-on-{machine}.json"
    )


def write_record(
    results_root: Path, committed_path: Path, committed: Mapping[str, Any], rerun: dict[str, Any]
) -> Path:
    """Write the reproduction record of ``committed`` (read from ``committed_path``, a file under
    ``results_root``) and ``rerun``; return its path.

    Raises:
        ValueError: the two are not one run (:func:`check_same_run`).
    """
    check_same_run(committed, rerun, committed_path, "the re-run")
    record = {
        "schema_version": SCHEMA_VERSION,
        "committed": Path(committed_path)
        .resolve()
        .relative_to(Path(results_root).resolve())
        .as_posix(),
        "committed_sha256": hashlib.sha256(Path(committed_path).read_bytes()).hexdigest(),
        "rerun": rerun,
    }
    text = json.dumps(record, indent=1) + "\n"
    path = record_path(results_root, committed, rerun)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, lambda fh: fh.write(text.encode()))


def read_record(path: Path) -> dict[str, Any]:
    """The reproduction record at ``path``, checked.

    Raises:
        ValueError: not a record of this layout, or its re-run is not a valid results file
            (the file and the field are named).
    """
    record = read_json(path, "reproduction record")
    missing = [
        k for k in ("schema_version", "committed", "committed_sha256", "rerun") if k not in record
    ]
    if missing:
        raise ValueError(f"reproduction record {path}: no {', '.join(missing)}")
    if record["schema_version"] != SCHEMA_VERSION:
        raise ValueError(
            f"reproduction record {path}: schema_version {record['schema_version']!r}, "
            f"expected {SCHEMA_VERSION}"
        )
    try:
        validate_results(record["rerun"])
    except ValueError as err:
        raise ValueError(f"reproduction record {path}: rerun: {err}") from None
    return record


def reproductions_table(results_root: Path, tolerance: float = TOLERANCE) -> pd.DataFrame:
    """One line per record under ``<results_root>/reproductions``: the committed file, the
    fingerprints of the machines that trained it and the re-run and whether they agree
    (``yes``, ``no``, ``unknown``), the re-run's commit, Rank-1 and
    mAP of both (single-query, percent), the largest difference over every shared metric and
    the verdict. A record whose committed file is gone or has changed since says so.
    """
    lines = []
    for path in sorted((Path(results_root) / REPRODUCTIONS).glob("*.json")):
        record = read_record(path)
        committed_path = Path(results_root) / record["committed"]
        rerun = record["rerun"]
        rerun_on = rerun["provenance"].get("numerics")
        line = {
            "committed file": record["committed"],
            "re-run on": rerun_on or "not recorded",
            "re-run commit": rerun["provenance"]["git_commit"][:10],
        }
        if not committed_path.is_file():
            lines.append({**line, "verdict": "the committed file is gone"})
            continue
        if hashlib.sha256(committed_path.read_bytes()).hexdigest() != record["committed_sha256"]:
            lines.append({**line, "verdict": "the committed file has changed since"})
            continue
        committed = read_results(committed_path)
        trained_on = committed["provenance"].get("numerics")
        table = compare_metrics(committed, rerun)
        single = table[table["variant"] == "single_query"].set_index("metric")
        _, said = reproduction_verdict(table, tolerance)
        lines.append(
            {
                **line,
                "trained on": trained_on or "not recorded",
                "same numerics": _same(trained_on, rerun_on),
                "rank1 committed": single.loc["rank1", "committed"],
                "rank1 re-run": single.loc["rank1", "re-run"],
                "mAP committed": single.loc["mAP", "committed"],
                "mAP re-run": single.loc["mAP", "re-run"],
                "largest difference": float(table["difference"].abs().max()),
                "verdict": said,
            }
        )
    return pd.DataFrame(lines, columns=COLUMNS)


def _same(trained_on: str | None, rerun_on: str | None) -> str:
    """Whether two numerics fingerprints agree: yes, no, or unknown where one is not recorded."""
    if trained_on is None or rerun_on is None:
        return "unknown"
    return "yes" if trained_on == rerun_on else "no"
