"""Training throughput (images/s) of study rows: the full model, the baseline, the models compared.

Times whole training steps of :class:`~reid_lib.engine.trainer.Trainer` (forward, loss, backward,
optimiser step; AMP and channels_last as the config says) on random P x K batches, so data
loading is not included. Prints one row per study row (``reid_lib/studies/ablations.yaml``) and
each row's throughput as a fraction of the baseline's::

    python -m benchmarks.train_speed --config cpu
    python -m benchmarks.train_speed --config full --steps 30 --rows full baseline pcb   (a GPU)

The ``baseline`` row is the backbone (last stride 1) with its stage3/stage4 BN-neck heads.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

import torch
from torch import nn

from reid_lib.engine.config import Config, apply_overrides, load_config
from reid_lib.engine.cost_report import synthetic_batch
from reid_lib.engine.experiment import build_loss, build_model_from_config
from reid_lib.engine.trainer import Trainer, amp_dtype, resolve_device
from reid_lib.studies import load_rows

NUM_CLASSES = 100
ROWS = ("full", "baseline", "resnet-global", "pcb", "hpm")


def images_per_second(
    cfg: Config,
    *,
    steps: int,
    warmup: int,
    model: nn.Module | None = None,
    loss_fn: Callable | None = None,
) -> float:
    """Training images per second over ``steps`` timed steps (after ``warmup`` untimed ones).

    The model and loss are ``cfg``'s unless given.
    """
    device = resolve_device(cfg.run.device)
    torch.manual_seed(0)
    model = model if model is not None else build_model_from_config(cfg, NUM_CLASSES)
    loss_fn = loss_fn or build_loss(cfg)
    trainer = Trainer(cfg, model, loss_fn, [], num_classes=NUM_CLASSES, device=device)
    images, pids = synthetic_batch(
        cfg.sampler.num_identities, cfg.sampler.num_instances, (cfg.data.height, cfg.data.width)
    )
    batch = {"images": images, "pids": pids}
    for step in range(warmup + steps):
        if step == warmup:
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
        trainer.forward_backward(batch)
        trainer.optimizer_step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * len(pids) / (time.perf_counter() - start)


def row_configs(cfg: Config, rows: Sequence[str]) -> dict[str, Config]:
    """``cfg`` with each study row's overrides applied, by row name."""
    defined = load_rows()
    unknown = [row for row in rows if row not in defined]
    if unknown:
        raise SystemExit(f"--rows: unknown row(s) {unknown}; expected some of {list(defined)}")
    return {row: apply_overrides(cfg, defined[row]) for row in rows}


def main(argv: list[str] | None = None) -> None:
    """Print images/s of each row for one config, and its ratio to the baseline's."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="cpu", help="preset or YAML (model, size, batch)")
    parser.add_argument("--rows", nargs="+", default=list(ROWS), help="study rows to time")
    parser.add_argument("--steps", type=int, default=5, help="timed steps")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("overrides", nargs="*", metavar="key.sub=value")
    args = parser.parse_args(argv)
    cfg = load_config(args.config, [*args.overrides, "run.output_dir=runs/benchmark"])
    device = resolve_device(cfg.run.device)
    print(
        f"{args.config}: {cfg.model.backbone}, {cfg.data.height}x{cfg.data.width}, batch "
        f"{cfg.sampler.num_identities}x{cfg.sampler.num_instances}, device {device}, "
        f"AMP {amp_dtype(cfg.run.amp, device) or 'off'}, threads {torch.get_num_threads()}"
    )
    rates = {
        row: images_per_second(config, steps=args.steps, warmup=args.warmup)
        for row, config in row_configs(cfg, args.rows).items()
    }
    base = rates.get("baseline")
    print(f"{'row':<16}{'images/s':>10}{'x baseline':>12}")
    for row, rate in rates.items():
        ratio = f"{rate / base:.2f}" if base else "-"
        print(f"{row:<16}{rate:>10.1f}{ratio:>12}")


if __name__ == "__main__":
    main()
