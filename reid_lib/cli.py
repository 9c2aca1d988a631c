"""The ``reid`` command: train, evaluate, make the synthetic set, verify a dataset.

::

    reid train --config PRESET_OR_YAML [--resume PATH] [key.sub=value ...]
    reid eval --checkpoint PATH [--rerank] [--multi-query] [--results-dir DIR] [--runs-dir DIR]
              [key.sub=value ...]
    reid pretrain [--config pretrain] [key.sub=value ...]    (the cpu profile's starting backbone)
    reid synth [--out DIR --preset small --seed 0 ...]      (reid_lib.data.make_synthetic)
    reid data verify ROOT --dataset NAME                     (reid_lib.data.verify)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from reid_lib import train as train_entry
from reid_lib.errors import run_reported
from reid_lib.train import EXIT_INTERRUPTED


def _eval(args: argparse.Namespace) -> int:
    from reid_lib.engine.experiment import evaluate_checkpoint

    def evaluate() -> int:
        path = evaluate_checkpoint(
            args.checkpoint,
            rerank=args.rerank,
            multi_query=args.multi_query,
            overrides=args.overrides,
            results_dir=args.results_dir,
            runs_dir=args.runs_dir,
        )
        print(f"results: {path}")
        return 0

    return run_reported("reid eval", evaluate, debug=args.debug)


def _pretrain(args: argparse.Namespace) -> int:
    from reid_lib.engine.config import load_config
    from reid_lib.engine.machine import numerics_fingerprint
    from reid_lib.engine.pretraining import (
        backbones_like_this_machine,
        compare_with_committed,
        pretrain,
    )

    def run() -> int:
        cfg = load_config(args.config, args.overrides)
        records = Path(cfg.run.results_dir) / "pretrained"
        fingerprint = numerics_fingerprint()
        alike = backbones_like_this_machine(records, fingerprint)
        print(
            f"numerics fingerprint of this machine: {fingerprint}; records in {records} made on "
            f"a machine with it: {', '.join(alike) if alike else 'none'}"
            + ("" if alike else " (expect a new checksum: runs pair only within one backbone)")
        )
        path = pretrain(cfg)
        if path is None:
            print("interrupted; run the same command again to resume", file=sys.stderr)
            return EXIT_INTERRUPTED
        record = path.with_suffix(".json")
        print(f"pretrained backbone: {path} (provenance and SHA-256 in {record})")
        print(compare_with_committed(path))
        return 0

    return run_reported("reid pretrain", run, debug=args.debug)


def _synth(argv: list[str]) -> int:
    from reid_lib.data.make_synthetic import main as make_synthetic

    return make_synthetic(argv)


def _verify(argv: list[str]) -> int:
    from reid_lib.data.verify import main as verify

    return int(verify(argv) or 0)


#: Sub-commands handed over whole to another tool's own parser (its ``--help`` included).
ROUTES = {("synth",): _synth, ("data", "verify"): _verify}


def build_parser() -> argparse.ArgumentParser:
    """The ``reid`` argument parser with its sub-commands."""
    parser = argparse.ArgumentParser(
        prog="reid",
        description="Person re-identification: train, evaluate and prepare data (reid_lib).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train a model from a preset or YAML config")
    train_entry.add_arguments(train).set_defaults(func=train_entry.run)

    evaluate = commands.add_parser("eval", help="evaluate a checkpoint and write its results file")
    evaluate.add_argument("--checkpoint", required=True, metavar="PATH")
    evaluate.add_argument("--rerank", action="store_true", help="add k-reciprocal re-ranking")
    evaluate.add_argument(
        "--multi-query", action="store_true", help="add Market-1501 multi-query pooling"
    )
    evaluate.add_argument(
        "--results-dir",
        default="results",
        help="folder of the results file (default: %(default)s; never the checkpoint's own)",
    )
    evaluate.add_argument(
        "--runs-dir",
        default="runs",
        help="where a synthetic test set is generated, under data/ (default: %(default)s; never "
        "the checkpoint's own)",
    )
    evaluate.add_argument("--debug", action="store_true", help="show the traceback of an error")
    evaluate.add_argument(
        "overrides", nargs="*", metavar="key.sub=value", help="e.g. data.root=/elsewhere"
    )
    evaluate.set_defaults(func=_eval)

    pretraining = commands.add_parser(
        "pretrain",
        help="train the backbone the cpu profile starts from (resumes; exports weights + sha256)",
    )
    pretraining.add_argument(
        "--config",
        default="pretrain",
        metavar="PRESET_OR_YAML",
        help="the pretraining config (default: the %(default)s preset)",
    )
    pretraining.add_argument("--debug", action="store_true", help="show the traceback of an error")
    pretraining.add_argument(
        "overrides", nargs="*", metavar="key.sub=value", help="e.g. schedule.epochs=20"
    )
    pretraining.set_defaults(func=_pretrain)

    commands.add_parser(
        "synth", help="write the synthetic dataset (python -m reid_lib.data.make_synthetic)"
    )

    data = commands.add_parser("data", help="dataset tools: reid data verify ROOT --dataset NAME")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="TOOL")
    data_commands.add_parser("verify", help="report unreadable images and bad file names")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``reid`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for prefix, tool in ROUTES.items():
        if tuple(argv[: len(prefix)]) == prefix:
            return tool(argv[len(prefix) :])
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
