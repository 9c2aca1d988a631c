"""Write the synthetic ReID dataset in the Market-1501 layout.

Usage::

    python -m reid_lib.data.make_synthetic --out DIR [--preset small] [--seed 0] \
        [--knob lighting=0.8 --knob viewpoint=1.0] [--overwrite]

Prints the counts per split, the time taken and the dataset's SHA-256 (also in DIR/manifest.json).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence

from reid_lib.data.synthetic import PRESETS, generate_synthetic
from reid_lib.data.synthetic_people import KNOBS
from reid_lib.errors import run_reported


def parse_knob(text: str) -> tuple[str, float]:
    """``"lighting=0.8"`` -> ``("lighting", 0.8)``, with an error naming the rule when malformed."""
    name, sep, value = text.partition("=")
    if not sep or name not in KNOBS:
        raise argparse.ArgumentTypeError(
            f"--knob {text!r}: expected NAME=VALUE with NAME one of {', '.join(KNOBS)}"
        )
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--knob {text!r}: {value!r} is not a number") from None
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"--knob {text!r}: the value must lie in [0, 1]")
    return name, number


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see the module docstring); returns the exit status: bad input prints one
    line and gives 2 (``--debug`` shows the traceback instead)."""
    parser = argparse.ArgumentParser(
        prog="python -m reid_lib.data.make_synthetic", description=__doc__
    )
    parser.add_argument("--out", required=True, help="output folder (Market-1501 layout)")
    parser.add_argument("--preset", default="small", choices=list(PRESETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--knob",
        type=parse_knob,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"set a nuisance knob in [0, 1]; NAME is one of {', '.join(KNOBS)}",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing split folders")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)
    return run_reported("reid synth", lambda: _write(args), debug=args.debug)


def _write(args: argparse.Namespace) -> int:
    config = PRESETS[args.preset].with_knobs(**dict(args.knob))
    start, cpu = time.perf_counter(), time.process_time()
    manifest = generate_synthetic(
        args.out,
        config,
        seed=args.seed,
        preset=args.preset,
        overwrite=args.overwrite,
        progress=True,
    )
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"synthetic preset {args.preset!r}, seed {args.seed}, "
        f"knobs {dataclasses.asdict(config.knobs)}"
    )
    print(f"{'split':<12}{'ids':>6}{'images':>8}{'cameras':>9}{'distractors':>13}{'junk':>6}")
    for split, c in manifest["counts"].items():
        print(
            f"{split:<12}{c['ids']:>6}{c['images']:>8}{c['cameras']:>9}"
            f"{c['distractors']:>13}{c['junk']:>6}"
        )
    print(
        f"{manifest['num_files']} files in {seconds:.1f} s ({cpu:.1f} s CPU); "
        f"sha256 {manifest['sha256']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
