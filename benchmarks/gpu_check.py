"""GPU readiness in one script: ``python -m benchmarks.gpu_check`` (under 8 minutes on one GPU).

Without a CUDA device it prints why it skips and exits 0. On a GPU, for the ``full`` preset at
256x128 with batch 16 x 4 and AMP as ``run.amp=auto`` picks (bf16 from compute capability 8.0,
else fp16 with a gradient scaler), it measures:

- training images/s and peak memory of the study rows ``full``, ``baseline``, ``resnet-global``,
  ``pcb`` and ``hpm`` (random initialisation) and of a plain torchvision ResNet-50 with a
  cross-entropy head;
- inference images/s (eval mode, no gradients, batch 256) of the same models;
- the loss reads per step: the training steps run under ``torch.cuda.set_sync_debug_mode``, which
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
from pathlib import Path

import torch
import torchvision
from torch import nn

from benchmarks.train_speed import NUM_CLASSES, images_per_second, row_configs
from reid_lib.engine import git_state, load_config, resolve_device, train
from reid_lib.engine.config import Config, apply_overrides
from reid_lib.engine.experiment import build_model_from_config
from reid_lib.engine.trainer import amp_dtype
from reid_lib.losses import LossOutput, label_smoothed_cross_entropy

ROWS = ("full", "baseline", "resnet-global", "pcb", "hpm")
#: The preset whose epochs are timed: the short GPU profile a Colab reader runs.
COLAB_PRESET = "colab"
PLAIN = "torchvision resnet50"


def plain_resnet50() -> tuple[nn.Module, object]:
    """torchvision's ResNet-50 (random weights) and a label-smoothed cross-entropy on its logits."""
    model = torchvision.models.resnet50(num_classes=NUM_CLASSES)

    def loss_fn(logits: torch.Tensor, targets: torch.Tensor) -> LossOutput:
        ce = label_smoothed_cross_entropy(logits, targets)
        return LossOutput(total=ce, terms={"ce": ce})

    return model, loss_fn


def peak_memory_gib(device: torch.device) -> float | None:
    """The peak memory allocated on ``device`` since the last reset, in GiB (None on the CPU)."""
    if device.type != "cuda":
        return None
    return torch.cuda.max_memory_allocated(device) / 2**30


def inference_per_second(model: nn.Module, cfg: Config, batch: int, steps: int) -> float:
    """Eval-mode images per second on random images at ``cfg``'s size (no gradients, AMP)."""
    device = resolve_device(cfg.run.device)
    model = model.to(device).eval()
    images = torch.randn(batch, 3, cfg.data.height, cfg.data.width, device=device)
    dtype = amp_dtype(cfg.run.amp, device)
    with torch.no_grad(), torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
        model(images)
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(steps):
            model(images)
        if device.type == "cuda":
            torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


def count_syncs(cfg: Config, model: nn.Module | None, loss_fn: object, steps: int) -> int | None:
    """Host-device syncs over ``steps`` training steps (None on the CPU, which has none)."""
    device = resolve_device(cfg.run.device)
    if device.type != "cuda":
        return None
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            images_per_second(cfg, steps=steps, warmup=0, model=model, loss_fn=loss_fn)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message) for w in caught)


def measure(cfg: Config, args: argparse.Namespace) -> list[dict[str, object]]:
    """One line per model: training and inference images/s, peak memory, syncs per step."""
    device = resolve_device(cfg.run.device)
    models: dict[str, tuple[Config, nn.Module | None, object]] = {
        row: (config, None, None) for row, config in row_configs(cfg, ROWS).items()
    }
    models[PLAIN] = (cfg, *plain_resnet50())
    lines = []
    for name, (config, model, loss_fn) in models.items():
        if device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
        train_rate = images_per_second(
            config, steps=args.steps, warmup=args.warmup, model=model, loss_fn=loss_fn
        )
        memory = peak_memory_gib(device)
        net = model if model is not None else build_model_from_config(config, NUM_CLASSES)
        syncs = count_syncs(config, model, loss_fn, args.sync_steps)
        lines.append(
            {
                "model": name,
                "train img/s": f"{train_rate:.1f}",
                "peak GiB": "-" if memory is None else f"{memory:.2f}",
                "infer img/s": f"{inference_per_second(net, config, args.infer_batch, 3):.1f}",
                "syncs/step": "-" if syncs is None else f"{syncs / args.sync_steps:.1f}",
            }
        )
        print(lines[-1], flush=True)
    return lines


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


def table(lines: list[dict[str, object]]) -> str:
    """A Markdown table of ``lines`` (all with the same keys)."""
    header = list(lines[0])
    rows = [" | ".join(str(line[h]) for h in header) for line in lines]
    return "\n".join(
        ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *[f"| {r} |" for r in rows]]
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m benchmarks.gpu_check`` argument parser."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_check", description=__doc__)
    parser.add_argument("--allow-cpu", action="store_true", help="run on the CPU (small sizes)")
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--identities", type=int, default=16, help="P of the P x K batch")
    parser.add_argument("--instances", type=int, default=4, help="K of the P x K batch")
    parser.add_argument("--steps", type=int, default=20, help="timed training steps per model")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    parser.add_argument("--sync-steps", type=int, default=3, help="steps watched for syncs")
    parser.add_argument("--infer-batch", type=int, default=256)
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
        f"{args.height}x{args.width}, batch {args.identities}x{args.instances}, AMP {dtype}"
    )
    print(heading, flush=True)
    model_lines = measure(cfg, args)
    epoch_line = profile_epochs(cfg, args, args.workdir)
    models, epochs = table(model_lines), table([epoch_line])
    report = (
        f"{heading}\n\n{models}\n\nThe {COLAB_PRESET} preset on its synthetic set:\n\n{epochs}\n"
    )
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
            "models": model_lines,
            "profile_epochs": epoch_line,
        }
        (args.out / f"gpu_check-{slug}.json").write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
