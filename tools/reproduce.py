"""Train a committed results file's run again, here, and compare its numbers with the file's.

Usage::

    REID_DATA_ROOT=<data> python -m tools.reproduce results/cpu/viper/full-split0-seed1.json

The run trains under the config stored in the file (its checkpoints under ``--runs-dir``, its
results file under ``--results-dir``: never over the committed file), resuming when stopped and
not training again a run that has finished there. Then a table sets each metric of each variant
beside the committed one, and a line says whether every difference is within ``--tolerance``
points (exit 0) or not (exit 1). It prints the numerics fingerprints beside them: this
machine's, the one the file records for the machine that trained it (files written before it
was recorded lack it) and the backbone record's; runs are repeatable bit for bit only between
machines with the same fingerprint.

``--rerun <file>`` compares a re-run made elsewhere instead of training one: the results file that
``reid train`` wrote in a fresh clone, say; it must be the same run (config, split, backbone,
seed) but for its name and row. ``--record`` writes the comparison's record to
``results/reproductions/`` (``reid_lib.reports.reproductions``), which the *Reproduction* chapter
shows as its table of re-runs.

Only a run tested on the set it trained on is one training; a transfer or knob evaluation
(another test set) is re-run by the sweep command the *Reproduction* chapter gives.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reid_lib.engine.config import Config, apply_overrides, from_dict
from reid_lib.engine.results import read_results, results_path
from reid_lib.errors import run_reported
from reid_lib.json_files import read_json
from reid_lib.reports.reproductions import (
    TOLERANCE,
    check_same_run,
    compare_metrics,
    reproduction_verdict,
    write_record,
)
from reid_lib.reports.rerun import rerun_command


def reproduced_config(data: Mapping[str, Any], runs_dir: Path, results_dir: Path) -> Config:
    """The config the file's run trained under, writing under ``runs_dir`` and ``results_dir``.

    Raises:
        ValueError: the file is not one training tested on its own set (names the command that
            re-runs it instead).
    """
    run = data["run"]
    if run["knob"] is not None or run["train_set"] != data["dataset"]["name"]:
        raise ValueError(
            f"run {run['name']} trained on {run['train_set']} and was tested on "
            f"{data['dataset']['name']}"
            + (f" (knob {run['knob']})" if run["knob"] else "")
            + f": it is not one training; re-run it with {rerun_command(data)}"
        )
    stored = from_dict(data["provenance"]["config"], source=f"results file of {run['name']}")
    return apply_overrides(stored, [f"run.output_dir={runs_dir}", f"run.results_dir={results_dir}"])


def fingerprints(data: Mapping[str, Any], records: Path) -> dict[str, str]:
    """The numerics fingerprints to read a comparison by: this machine's, the one the file
    records, and that of the backbone's pretraining record in ``records`` (when there is one)."""
    from reid_lib.engine.machine import numerics_fingerprint
    from reid_lib.engine.pretraining import record_path

    record = None
    if data["run"]["pretraining"]:
        # The label is "<weights' stem> sha256:<12 hex>" (pretrained_weights.pretraining_label).
        stem, sha256 = data["run"]["pretraining"].split(" sha256:")
        path = record_path(records, stem, sha256)
        record = read_json(path, "pretraining record").get("numerics") if path.is_file() else None
    return {
        "this machine": numerics_fingerprint(),
        "the machine that trained the committed run": data["provenance"].get("numerics")
        or "not recorded",
        "the machine that pretrained its backbone": record or "not recorded",
    }


def reproduce(
    path: Path,
    runs_dir: Path,
    results_dir: Path,
    tolerance: float,
    *,
    rerun_file: Path | None = None,
    record: bool = False,
) -> int:
    """Re-run the results file ``path`` (see the module docstring), or take ``rerun_file`` as its
    re-run; print the comparison, write a reproduction record when ``record``; 0 when
    reproduced, else 1.

    Raises:
        ValueError: ``rerun_file`` is another run than ``path`` (every mismatched key named), or
            the re-run would be written over ``path``.
    """
    data = read_results(path)
    if rerun_file is None:
        rerun_file = _train_again(path, data, runs_dir, results_dir)
    rerun = read_results(rerun_file)
    check_same_run(data, rerun, path, rerun_file)
    table = compare_metrics(data, rerun)
    print(table.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    results_root = path.parents[2]
    for who, fingerprint in fingerprints(data, results_root / "pretrained").items():
        print(f"numerics fingerprint of {who}: {fingerprint}")
    ok, said = reproduction_verdict(table, tolerance)
    largest = f" (largest difference {table['difference'].abs().max():.2f})" if len(table) else ""
    print(said + largest)
    if record:
        print(f"reproduction record: {write_record(results_root, path, data, rerun)}")
    return 0 if ok else 1


def _train_again(path: Path, data: dict[str, Any], runs_dir: Path, results_dir: Path) -> Path:
    """Train (or resume, or find finished) the run of ``path`` under ``runs_dir``; its results
    file, under ``results_dir``."""
    from reid_lib.studies.sweep import complete_run

    cfg = reproduced_config(data, runs_dir, results_dir)
    target = results_path(results_dir, cfg.run.profile, cfg.data.dataset, cfg.run.name)
    if target.resolve() == path.resolve():
        raise ValueError(
            f"--results-dir {results_dir} would write the re-run over {path}; give another folder"
        )
    _, done = complete_run(cfg)
    print(f"{cfg.run.name}: {done}")
    return target


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.reproduce", description=__doc__)
    parser.add_argument("results_file", type=Path, help="a committed results file")
    parser.add_argument(
        "--runs-dir", type=Path, default=Path("runs/reproduce"), help="the re-run's checkpoints"
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=Path("runs/reproduce/results"),
        help="the re-run's results file (not the committed file's folder)",
    )
    parser.add_argument(
        "--tolerance", type=float, default=TOLERANCE, help="points a metric may differ by"
    )
    parser.add_argument(
        "--rerun",
        type=Path,
        help="a re-run made elsewhere (e.g. by reid train in a fresh clone) to compare instead "
        "of training; it must be the same run but for its name and row",
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help="write a reproduction record to results/reproductions/ (the Reproduction chapter's "
        "table of re-runs)",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_reported(
        "python -m tools.reproduce",
        lambda: reproduce(
            args.results_file,
            args.runs_dir,
            args.results_dir,
            args.tolerance,
            rerun_file=args.rerun,
            record=args.record,
        ),
        debug=args.debug,
    )


if __name__ == "__main__":
    sys.exit(main())
