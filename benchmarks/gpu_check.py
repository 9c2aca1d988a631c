"""GPU readiness in one script: ``python -m benchmarks.gpu_check`` (under 8 minutes on one GPU).

Without a CUDA device it prints why it skips and exits 0. On a GPU, for the ``full`` preset at
256x128 with batch 16 x 4 and AMP as ``run.amp=auto`` picks (bf16 from compute capability 8.0,
else fp16 with a gradient scaler), it measures:

- side by side in one process (:func:`benchmarks.train_speed.side_by_side`), the study rows
  ``full``, ``baseline``, ``resnet-bot``, ``pcb`` and ``hpm`` (random initialisation) and a plain
  torchvision ResNet-50: training images/s and its ratio to the baseline's, the ratio that FLOPs
  alone allow, inference images/s and its ratio to the plain ResNet's, the memory a training step
  holds and the allocator's peak;
- the loss reads per step: training steps run under ``torch.cuda.set_sync_debug_mode``, which
  warns at every host-device sync, counted;
- two epochs of the ``colab`` preset (the book's short GPU profile, random initialisation here)
  on its synthetic set, with their wall time, seconds per epoch and Rank-1/mAP: the intro turns
  the seconds per epoch into the expected run time of a chapter on that GPU.

It prints a Markdown table, and with ``--out DIR`` also writes it to
``DIR/gpu_check-<device>.md`` with the device, torch version and commit, and the same numbers to
``DIR/gpu_check-<device>.json`` (read by ``reid_lib.reports.gpu_times``). ``--allow-cpu`` and the
size options run the same code on a CPU at a small size (the test suite does, so that the script
works when a GPU is lent).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch

from benchmarks.train_speed import (
    ROWS,
    Candidate,
    batch_of,
    candidates,
    side_by_side,
    size_heading,
    table,
    train_seconds,
    trainer_of,
)
from reid_lib.engine import git_state, load_config, resolve_device, train
from reid_lib.engine.config import Config, apply_overrides
from reid_lib.engine.trainer import amp_dtype

#: The preset whose epochs are timed: the short GPU profile a Colab reader runs.
COLAB_PRESET = "colab"
#: The second size of the side-by-side table: the cpu track's model, image size and batch.
CPU_SIZE_PRESET = "cpu"


def count_syncs(models: Sequence[Candidate], steps: int) -> dict[str, str]:
    """Host-device syncs per training step of each model (``-`` on the CPU, which has none)."""
    syncs = {}
    for candidate in models:
        if resolve_device(candidate.cfg.run.device).type != "cuda":
            syncs[candidate.name] = "-"
            continue
        trainer, batch = trainer_of(candidate), batch_of(candidate.cfg)
        torch.cuda.set_sync_debug_mode("warn")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                train_seconds(trainer, batch, steps)
        finally:
            torch.cuda.set_sync_debug_mode("default")
        count = sum("synchroniz" in str(w.message) for w in caught)
        syncs[candidate.name] = f"{count / steps:.1f}"
    return syncs


def measure(cfg: Config, args: argparse.Namespace) -> list[dict[str, str]]:
    """One line per model: the side-by-side columns and the syncs per step."""
    models = candidates(cfg, ROWS)
    lines = side_by_side(cfg, models, rounds=args.rounds, steps=args.steps)
    syncs = count_syncs(models, args.sync_steps)
    return [line | {"syncs/step": syncs[line["model"]]} for line in lines]


def profile_epochs(cfg: Config, args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    """Train the ``colab`` preset (at ``cfg``'s sizes and device, random initialisation) for
    ``--epochs`` epochs on its synthetic set; wall time, seconds per epoch and metrics."""
    preset = load_config(COLAB_PRESET)
    run = apply_overrides(
        preset,
        [
            "model.pretrained=null",
            f"data.height={cfg.data.height}",
            f"data.width={cfg.data.width}",
            f"data.num_workers={cfg.data.num_workers}",
            f"sampler.num_identities={cfg.sampler.num_identities}",
            f"sampler.num_instances={cfg.sampler.num_instances}",
            f"data.synthetic_preset={args.synthetic_preset or preset.data.synthetic_preset}",
            f"schedule.epochs={args.epochs}",
            f"run.device={cfg.run.device}",
            f"eval.every={args.epochs}",
            "run.name=gpu-check",
            "run.progress=false",
            f"run.output_dir={workdir / 'runs'}",
            f"run.results_dir={workdir / 'results'}",
        ],
    )
    start = time.perf_counter()
    result = train(run)
    wall = time.perf_counter() - start
    metrics = result.best or {}
    return {
        "preset": COLAB_PRESET,
        "epochs": result.epochs_completed,
        "wall s": round(wall, 1),
        "s/epoch": round(wall / max(result.epochs_completed, 1), 1),
        "train img/s": round(result.images_per_s or 0, 1),
        "best": ", ".join(f"{k} {v}" for k, v in metrics.items()) or "-",
    }


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m benchmarks.gpu_check`` argument parser."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_check", description=__doc__)
    parser.add_argument("--allow-cpu", action="store_true", help="run on the CPU (small sizes)")
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--identities", type=int, default=16, help="P of the P x K batch")
    parser.add_argument("--instances", type=int, default=4, help="K of the P x K batch")
    parser.add_argument("--steps", type=int, default=10, help="steps per model and round")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds; the fastest counts")
    parser.add_argument("--sync-steps", type=int, default=3, help="steps watched for syncs")
    parser.add_argument(
        "--synthetic-preset", default=None, help="default: the colab preset's own (small)"
    )
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--num-workers", type=int, default=8, help="data loading processes")
    parser.add_argument("--workdir", type=Path, default=Path("runs/gpu_check"))
    parser.add_argument("--out", type=Path, help="also write the tables to DIR/gpu_check-*.md")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    if not torch.cuda.is_available() and not args.allow_cpu:
        print("gpu_check: skipped: no CUDA device here (torch.cuda.is_available() is False)")
        return 0
    device = "cuda" if torch.cuda.is_available() else "cpu"
    cfg = load_config(
        "full",
        [
            "model.pretrained=null",
            f"data.height={args.height}",
            f"data.width={args.width}",
            f"sampler.num_identities={args.identities}",
            f"sampler.num_instances={args.instances}",
            f"data.num_workers={args.num_workers}",
            f"run.device={device}",
            "run.amp=auto",
            f"run.output_dir={args.workdir / 'runs'}",
        ],
    )
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    dtype = amp_dtype(cfg.run.amp, torch.device(device))
    heading = (
        f"{name}, torch {torch.__version__}, commit {(git_state()['commit'] or 'unknown')[:10]}; "
        f"AMP {dtype}"
    )
    print(heading, flush=True)
    cpu_size = load_config(
        CPU_SIZE_PRESET,
        [
            "model.pretrained=null",
            f"run.device={device}",
            "run.amp=auto",
            f"run.output_dir={args.workdir / 'runs'}",
        ],
    )
    sizes = {"paper": cfg, "cpu": cpu_size}
    model_lines = {}
    for size, config in sizes.items():
        print(size_heading(size, config), flush=True)
        model_lines[size] = measure(config, args)
    epoch_line = profile_epochs(cfg, args, args.workdir)
    sections = [
        f"{size_heading(size, c)}\n\n{table(model_lines[size])}" for size, c in sizes.items()
    ]
    epochs = f"The {COLAB_PRESET} preset on its synthetic set:\n\n{table([epoch_line])}"
    report = "\n\n".join([heading, *sections, epochs]) + "\n"
    print(report)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        (args.out / f"gpu_check-{slug}.md").write_text(report)
        record = {
            "device": name,
            "amp": str(dtype),
            "torch": torch.__version__,
            **git_state(),
            "written_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "models": model_lines["paper"],
            "models_cpu_preset": model_lines["cpu"],
            "profile_epochs": epoch_line,
        }
        (args.out / f"gpu_check-{slug}.json").write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
