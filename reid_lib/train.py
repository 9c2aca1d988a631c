"""Train one run: ``python -m reid_lib.train --config PRESET_OR_YAML [--resume PATH] [k=v ...]``.

The same command under ``torchrun --nproc_per_node=N -m reid_lib.train ...`` trains with
DistributedDataParallel (NCCL on GPUs, Gloo on CPUs); ``reid train`` is the same entry point.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from reid_lib.engine.config import PRESETS, load_config
from reid_lib.engine.trainer import NonFiniteLossError
from reid_lib.errors import run_reported

#: Exit status of a run stopped by Ctrl-C (128 + SIGINT), after its checkpoint was written.
EXIT_INTERRUPTED = 130


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``reid train`` (shared with ``python -m reid_lib.train``)."""
    parser.add_argument(
        "--config",
        required=True,
        metavar="PRESET_OR_YAML",
        help=f"a preset ({', '.join(PRESETS)}) or a YAML config file",
    )
    parser.add_argument("--resume", metavar="PATH", help="checkpoint to resume from (last.pt)")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="start again when the run folder already holds a checkpoint (it is removed)",
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="key.sub=value",
        help="config overrides, e.g. optim.lr=1e-4 schedule.epochs=30 data.root=peta-reid/VIPeR",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Train as ``args`` say; print the outcome (rank 0 only); return the exit status."""
    return run_reported(
        "reid train",
        lambda: _train(args),
        debug=args.debug,
        statuses={NonFiniteLossError: 1},
    )


def _train(args: argparse.Namespace) -> int:
    cfg = load_config(args.config, args.overrides)
    from reid_lib.engine.experiment import train

    result = train(cfg, resume=args.resume, overwrite=args.overwrite)
    if os.environ.get("RANK", "0") != "0":
        return EXIT_INTERRUPTED if result.status == "interrupted" else 0
    run_dir = cfg.run_dir()
    if result.status == "interrupted":
        last, saved = run_dir / "last.pt", run_dir / "config.yaml"
        print(
            f"interrupted after {result.epochs_completed} epochs; checkpoint {last}\n"
            f"resume: reid train --config {saved} --resume {last}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if args.resume and result.steps_this_call == 0:
        print(
            f"{args.resume} had already trained all {result.epochs_completed} epochs: nothing "
            f"was trained or evaluated now; to evaluate it: reid eval --checkpoint {args.resume}"
        )
        return 0
    print(f"finished {result.epochs_completed} epochs; checkpoints in {run_dir}")
    if result.results_path is not None:
        print(f"results: {result.results_path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m reid_lib.train``."""
    parser = add_arguments(
        argparse.ArgumentParser(prog="python -m reid_lib.train", description=__doc__)
    )
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
