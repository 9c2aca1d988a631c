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
- two epochs of the ``full`` preset (random initialisation) on the synthetic ``medium`` set, with
  their wall time and Rank-1/mAP.

It prints a Markdown table, and with ``--out DIR`` also writes it to
``DIR/gpu_check-<device>.md`` with the device, torch version and commit. ``--allow-cpu`` and the
size options run the same code on a CPU at a small size (the test suite does, so that the script
works when a GPU is lent).
"""

from __future__ import annotations

import argparse
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


def two_epochs(cfg: Config, args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    """Train the ``full`` preset for ``--epochs`` epochs on the synthetic set; time and metrics."""
    run = apply_overrides(
        cfg,
        [
            "data.dataset=synthetic",
            "data.root=null",
            f"data.synthetic_preset={args.synthetic_preset}",
            f"schedule.epochs={args.epochs}",
            f"eval.every={args.epochs}",
            "run.name=gpu-check",
            "run.progress=false",
            f"run.output_dir={workdir / 'runs'}",
            f"run.results_dir={workdir / 'results'}",
        ],
    )
    start = time.perf_counter()
    result = train(run)
    metrics = result.best or {}
    return {
        "epochs": result.epochs_completed,
        "wall s": f"{time.perf_counter() - start:.0f}",
        "train img/s": f"{result.images_per_s or 0:.1f}",
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
    parser.add_argument("--synthetic-preset", default="medium")
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
    models = table(measure(cfg, args))
    epochs = table([two_epochs(cfg, args, args.workdir)])
    report = f"{heading}\n\n{models}\n\nThe full preset on the synthetic set:\n\n{epochs}\n"
    print(report)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        (args.out / f"gpu_check-{slug}.md").write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
