"""Training throughput (images/s) of the full model and the plain ResNet baseline.

Times whole training steps of :class:`~reid_lib.engine.trainer.Trainer` (forward, loss, backward,
optimiser step; AMP and channels_last on a GPU as the config says) on random P x K batches, so data
loading is not included. Prints one row per model::

    python -m benchmarks.train_speed --config cpu
    python -m benchmarks.train_speed --config full --steps 30 run.amp=bf16   (on a GPU)

The baseline is the same config with ``model.non_local=false model.msg=false model.tsa=false
model.wdp=null``: the backbone (last stride 1) with its stage3/stage4 BNNeck heads.
"""

from __future__ import annotations

import argparse
import time

import torch

from reid_lib.engine.config import apply_overrides, load_config
from reid_lib.engine.cost_report import synthetic_batch
from reid_lib.engine.experiment import build_loss, build_model_from_config
from reid_lib.engine.trainer import Trainer, amp_dtype, resolve_device

BASELINE = ["model.non_local=false", "model.msg=false", "model.tsa=false", "model.wdp=null"]
NUM_CLASSES = 100


def images_per_second(cfg, *, steps: int, warmup: int) -> float:
    """Training images per second over ``steps`` timed steps (after ``warmup`` untimed ones)."""
    device = resolve_device(cfg.run.device)
    torch.manual_seed(0)
    model = build_model_from_config(cfg, NUM_CLASSES)
    trainer = Trainer(cfg, model, build_loss(cfg), [], num_classes=NUM_CLASSES, device=device)
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


def main(argv: list[str] | None = None) -> None:
    """Print images/s of the full model and the baseline for one config."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="cpu", help="preset or YAML (model, size, batch)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("overrides", nargs="*", metavar="key.sub=value")
    args = parser.parse_args(argv)
    cfg = load_config(args.config, [*args.overrides, "run.output_dir=runs/benchmark"])
    device = resolve_device(cfg.run.device)
    dtype = amp_dtype(cfg.run.amp, device)
    print(
        f"{args.config}: {cfg.model.backbone}, {cfg.data.height}x{cfg.data.width}, batch "
        f"{cfg.sampler.num_identities}x{cfg.sampler.num_instances}, device {device}, "
        f"AMP {dtype or 'off'}, threads {torch.get_num_threads()}"
    )
    print(f"{'model':<10}{'images/s':>10}")
    for name, extra in (("full", []), ("baseline", BASELINE)):
        rate = images_per_second(apply_overrides(cfg, extra), steps=args.steps, warmup=args.warmup)
        print(f"{name:<10}{rate:>10.1f}")


if __name__ == "__main__":
    main()
