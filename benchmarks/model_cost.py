"""Cost of the paper's model and its ablations: parameters, FLOPs, CPU training throughput.

For a plain ResNet baseline (BN neck, last stride 1: every flag off), +NL, +MSG, +WDP and the full
model, prints a table of parameters, FLOPs per image of one training step (forward incl. loss, and
forward + backward; torch's flop counter, a multiply-add = 2 FLOPs) and CPU forward+backward
images/s, at 256x128 and at 128x64. The FLOP count (via ``reid_lib.engine.cost_report``) doubles as
the warm-up step; the throughput is that of the fastest of ``--repeats`` timed steps, the one least
disturbed by other processes on a shared machine.

Run: ``python -m benchmarks.model_cost`` (``--help`` for options). Timings depend on the machine and
on what else runs on it; report them with the machine's description.
"""

from __future__ import annotations

import argparse
import time

import torch

from reid_lib.engine.cost_report import measure_cost, synthetic_batch
from reid_lib.losses import ReIDLoss
from reid_lib.models import build_model
from reid_lib.models.backbone import BACKBONES

CONFIGS = {
    "baseline": {"non_local": False, "msg": False, "wdp": False},
    "+NL": {"non_local": True, "msg": False, "wdp": False},
    "+MSG": {"non_local": False, "msg": True, "wdp": False},
    "+WDP": {"non_local": False, "msg": False, "wdp": True},
    "full": {},
}
SIZES = ((256, 128), (128, 64))


def images_per_second(model, images, targets, criterion, repeats: int) -> float:
    """Forward+backward throughput of the fastest of ``repeats`` training steps."""
    model.train()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        criterion(model(images), targets).total.backward()
        seconds.append(time.perf_counter() - start)
        model.zero_grad(set_to_none=True)
    return images.shape[0] / min(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="resnet50", choices=sorted(BACKBONES))
    parser.add_argument("--identities", type=int, default=4, help="P of the P x K batch")
    parser.add_argument("--per-identity", type=int, default=2, help="K of the P x K batch")
    parser.add_argument("--repeats", type=int, default=3, help="timed steps per cell")
    parser.add_argument("--num-classes", type=int, default=751)
    args = parser.parse_args()
    criterion = ReIDLoss()
    batch = args.identities * args.per_identity
    print(
        f"{args.backbone}, batch {batch}, {args.num_classes} classes, "
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
    )
    header = ["config", "params (M)"]
    for h, w in SIZES:
        header += [f"GFLOPs fwd {h}x{w}", f"GFLOPs fwd+bwd {h}x{w}", f"img/s {h}x{w}"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, flags in CONFIGS.items():
        torch.manual_seed(0)
        model = build_model(args.num_classes, backbone=args.backbone, **flags)
        cells = [name, f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f}"]
        for size in SIZES:
            images, targets = synthetic_batch(args.identities, args.per_identity, size)
            cost = measure_cost(model, images, targets, criterion)
            speed = images_per_second(model, images, targets, criterion, args.repeats)
            cells += [
                f"{cost.forward_flops / batch / 1e9:.2f}",
                f"{cost.total_flops / batch / 1e9:.2f}",
                f"{speed:.3g}",
            ]
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
