"""What each run of a sweep cost: wall time and training images/s, read from its results files.

Every results file records the run's seconds in the trainer (``provenance.wall_time_s``, summed
over resumes) and its training throughput (``training.images_per_s``), so the cost of the committed
sweep needs no re-run::

    python -m benchmarks.run_costs                       # the cpu track under results/
    python -m benchmarks.run_costs --profile full --results-dir runner0/results

Prints one line per run (dataset, row, split, seed, minutes, images/s, the device and the
pretrained backbone it started from, which says which runs pair), then per dataset and row
the runs, their mean and longest minutes, and the total hours. A run trained jointly on several
sets is one line (dataset ``joint``), though each set it is tested on has a results file. Transfer
and knob evaluations (a results file whose test set is not its training set, or with a knob) are
left out: they train nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from reid_lib.reports.protocols import JOINT
from reid_lib.reports.records import load_result_files


def run_costs(results_dir: Path, profile: str) -> pd.DataFrame:
    """One line per run of ``profile`` under ``results_dir``: its fields, minutes and images/s."""
    lines = [
        {
            "dataset": data["run"]["train_set"],
            "row": data["run"]["row"],
            "split": data["dataset"]["split"],
            "seed": data["run"]["seed"],
            "epochs": data["training"]["epochs_completed"],
            "minutes": data["provenance"]["wall_time_s"] / 60,
            "images/s": data["training"]["images_per_s"],
            "device": data["provenance"]["device"],
            "pretraining": data["run"]["pretraining"] or "none",
        }
        for data in load_result_files(Path(results_dir))
        if data["run"]["profile"] == profile
        and data["run"]["train_set"] in (data["dataset"]["name"], JOINT)
        and data["run"]["knob"] is None
    ]
    run = ["dataset", "row", "split", "seed"]  # names a run; a joint run has a file per test set
    columns = [*run, "epochs", "minutes", "images/s", "device", "pretraining"]
    return pd.DataFrame(lines, columns=columns).drop_duplicates(run).sort_values(run)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_costs", description=__doc__)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--results-dir", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    runs = run_costs(args.results_dir, args.profile)
    if runs.empty:
        print(f"no results files under {args.results_dir / args.profile}")
        return
    print(runs.to_string(index=False, float_format=lambda x: f"{x:.1f}", na_rep="-"))
    summary = runs.groupby(["dataset", "row"])["minutes"].agg(["count", "mean", "max"])
    print()
    print(summary.rename(columns={"count": "runs", "mean": "mean min", "max": "max min"}).round(1))
    print(f"\n{len(runs)} runs, {runs['minutes'].sum() / 60:.2f} hours of wall time")


if __name__ == "__main__":
    main()
