"""Time the synthetic dataset generator on one CPU core and print a table.

    python -m benchmarks.synthetic_speed [--preset small] [--seed 0] [--repeats 3]

Rows: planning (identities, cameras, names), rendering plus JPEG encoding and writing (the whole
``generate_synthetic`` call), per image; wall-clock and CPU seconds of this process (CPU time does
not grow when other processes share the core). The process is pinned to one core where the OS
allows it.
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
        wall, cpu = time.perf_counter(), time.process_time()
        world = build_world(config, args.seed)
        plan.append((time.perf_counter() - wall, time.process_time() - cpu))
        with tempfile.TemporaryDirectory() as out:
            wall, cpu = time.perf_counter(), time.process_time()
            manifest = generate_synthetic(out, config, seed=args.seed, preset=args.preset)
            total.append((time.perf_counter() - wall, time.process_time() - cpu))
    plan_wall, plan_cpu = (statistics.median(t) for t in zip(*plan, strict=True))
    total_wall, total_cpu = (statistics.median(t) for t in zip(*total, strict=True))
    images = len(world.images)
    print(
        f"preset {args.preset!r}: {images} images of {config.height}x{config.width}, "
        f"{config.num_ids} ids, {config.num_cameras} cameras, seed {args.seed}"
    )
    print(f"cores used: {cores}; median of {args.repeats} runs; sha256 {manifest['sha256']}")
    print(f"{'step':<34}{'wall':>10}{'cpu':>10}")
    print(f"{'plan (identities, cameras, names) s':<34}{plan_wall:>10.3f}{plan_cpu:>10.3f}")
    print(f"{'generate_synthetic (all) s':<34}{total_wall:>10.2f}{total_cpu:>10.2f}")
    per_wall, per_cpu = 1000 * total_wall / images, 1000 * total_cpu / images
    print(f"{'per image ms':<34}{per_wall:>10.2f}{per_cpu:>10.2f}")


if __name__ == "__main__":
    main()
