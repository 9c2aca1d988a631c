"""Time the synthetic dataset generator on one CPU core and print a table.

    python -m benchmarks.synthetic_speed [--preset small] [--seed 0] [--repeats 3]

Rows: planning (identities, cameras, names), rendering plus JPEG encoding and writing (the whole
``generate_synthetic`` call), per image. The process is pinned to one core where the OS allows it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from reid_lib.data.synthetic import PRESETS, build_world, generate_synthetic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="small", choices=list(PRESETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "all"
    config = PRESETS[args.preset]

    plan, total = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        world = build_world(config, args.seed)
        plan.append(time.perf_counter() - start)
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            manifest = generate_synthetic(out, config, seed=args.seed, preset=args.preset)
            total.append(time.perf_counter() - start)
    images = len(world.images)
    print(
        f"preset {args.preset!r}: {images} images of {config.height}x{config.width}, "
        f"{config.num_ids} ids, {config.num_cameras} cameras, seed {args.seed}"
    )
    print(f"cores used: {cores}; median of {args.repeats} runs; sha256 {manifest['sha256']}")
    print(f"{'step':<34}{'seconds':>10}")
    print(f"{'plan (identities, cameras, names)':<34}{statistics.median(plan):>10.3f}")
    print(f"{'generate_synthetic (all)':<34}{statistics.median(total):>10.2f}")
    print(f"{'per image (ms)':<34}{1000 * statistics.median(total) / images:>10.2f}")


if __name__ == "__main__":
    main()
