"""Does joint training fit a set's training identities less well, or generalise less well?

    python -m benchmarks.joint_fit --runs-dir RUNS [--data-root $REID_DATA_ROOT]
        [--sets viper grid prid2011 caviar4reid] [--row baseline] [--joint-row ROW]
        [--splits 0 1 2] [--seed 1]

*Datasets* shows that the baseline trained jointly on the four small sets scores below the same
model trained on one set alone, on three of them (VIPeR and GRID most), and that batch-norm
statistics explain most of GRID's loss but little of VIPeR's. This script separates the two ways
a model can lose on a set: it ranks the set's *training* images among themselves (each image a
query; the gallery the other images, minus those of the same person and camera, as the test
protocol does) and its test split, with both models of each split. A model that fits the
training identities as well as the one trained alone, yet ranks the test identities worse,
generalises less well; one that fits them less well was given too little of that set to learn
from (budget, capacity, the other sets' pull). Both models see the images as at test: in eval
mode, with the batch-norm statistics they trained with (the mixture's, for the joint model;
AdaBN, ``eval.adapt_bn``, is the check of those).

It reads the checkpoints that ``python -m tools.sweep joint`` and ``tools.sweep run`` leave in
``--runs-dir`` (``<runs>/cpu/joint/<row>-split<s>-seed<seed>/last.pt`` and
``<runs>/cpu/<set>/<row>-...``; the committed results files do not hold weights). ``--joint-row``
pairs the set's own run with another joint row, e.g. ``baseline-24-epochs`` alone against
``baseline-24-epochs-set-softmax`` jointly, the diagnosis's last comparison. It skips a run that has
not trained every epoch of its schedule, and evaluates each once per image set: about a minute
per set and split on two cores. It prints mAP and Rank-1 (%).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import torch

from reid_lib.data.records import Record
from reid_lib.engine.checkpoint import LAST, load_training_checkpoint
from reid_lib.engine.config import apply_overrides, from_dict
from reid_lib.engine.evaluation import embed_records, evaluate_model
from reid_lib.engine.experiment import TRAINING_ONLY, load_dataset, trained_model
from reid_lib.metrics import compute_distance, evaluate
from reid_lib.studies import joint_test_sets

CPU = torch.device("cpu")


def retrieval(model: torch.nn.Module, cfg, records: Sequence[Record]) -> tuple[float, float]:
    """mAP and Rank-1 (%) of ``records`` ranked among themselves (same person, same camera out)."""
    feats, pids, cams = embed_records(model, records, cfg, CPU)
    result = evaluate(compute_distance(feats, feats, cfg.eval.metric), pids, pids, cams, cams)
    return 100 * result.mAP, 100 * result.rank(1)


def unfinished(state: dict) -> str | None:
    """Why a training checkpoint cannot stand for its run (it has not trained every epoch of its
    schedule: still training, or stopped), or None."""
    epochs = state["config"]["schedule"]["epochs"]
    if state["epoch"] < epochs:
        return f"trained {state['epoch']} of {epochs} epochs (still training, or stopped)"
    return None


def fit_and_test(state: dict, checkpoint: Path, test_set: Sequence[str]) -> dict[str, float]:
    """The train-split retrieval of the training checkpoint ``state`` (read from ``checkpoint``)
    on one set, and its test split's single-query numbers as the evaluation computes them
    (``evaluate_model``)."""
    cfg = apply_overrides(
        from_dict(state["config"], source=str(checkpoint)),
        [*TRAINING_ONLY, *test_set, "run.progress=false"],
    )
    model = trained_model(state).eval()
    data = load_dataset(cfg)
    train_map, train_r1 = retrieval(model, cfg, data.train)
    test = evaluate_model(model, data, cfg, CPU)["single_query"]
    return {
        "train mAP": train_map,
        "train R1": train_r1,
        "test mAP": 100 * test["mAP"],
        "test R1": 100 * test["rank1"],
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs-dir", type=Path, required=True)
    parser.add_argument("--data-root", type=Path, default=os.environ.get("REID_DATA_ROOT"))
    parser.add_argument("--sets", nargs="+", default=["viper", "grid", "prid2011", "caviar4reid"])
    parser.add_argument("--row", default="baseline", help="the row trained on each set alone")
    parser.add_argument("--joint-row", help="the row trained jointly (default: --row)")
    parser.add_argument("--splits", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if args.data_root is None:
        parser.error("--data-root (or $REID_DATA_ROOT): the folder holding the small real sets")
    torch.set_num_threads(args.threads)
    joint_row = args.joint_row or args.row
    lines = []
    for test_set in joint_test_sets(args.sets, args.data_root):
        for split in args.splits:
            for trained_on, row in ((test_set.dataset, args.row), ("joint", joint_row)):
                run = f"{row}-split{split}-seed{args.seed}"
                checkpoint = args.runs_dir / "cpu" / trained_on / run / LAST
                if not checkpoint.is_file():
                    print(f"skip {checkpoint}: not there (train it with tools.sweep)")
                    continue
                state = load_training_checkpoint(checkpoint)
                if why := unfinished(state):
                    print(f"skip {checkpoint}: {why}; the same tools.sweep command finishes it")
                    continue
                numbers = fit_and_test(state, checkpoint, test_set.overrides)
                lines.append({"set": test_set.dataset, "split": split, "trained on": trained_on})
                lines[-1].update(numbers)
                print(lines[-1], flush=True)
    table = pd.DataFrame(lines)
    print(table.to_string(index=False, float_format="{:.1f}".format))
    if not table.empty:
        alone = table[table["trained on"] != "joint"].set_index(["set", "split"])
        joint = table[table["trained on"] == "joint"].set_index(["set", "split"])
        change = (joint.drop(columns="trained on") - alone.drop(columns="trained on")).dropna()
        print("\njoint minus alone, mean over splits (points):")
        print(change.groupby("set").mean().to_string(float_format="{:+.1f}".format))


if __name__ == "__main__":
    main()
