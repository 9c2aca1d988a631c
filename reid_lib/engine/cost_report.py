"""Parameters and FLOPs of one training step of the model, per module.

:func:`measure_cost` runs a forward pass (model and loss) and a backward pass on a batch, counting
floating-point operations with :class:`torch.utils.flop_counter.FlopCounterMode` (which counts a
multiply-add as 2 FLOPs and counts only matrix products and convolutions). The per-module figures
are forward FLOPs: torch's module tracker attributes backward operations to modules unreliably when
a map feeds several branches (F3 and F4 here), so the backward pass is reported only as a total.

``python -m reid_lib.engine.cost_report`` prints the table for the full model on a synthetic batch
(the job ``make book`` runs until the book's chapters land); ``--help`` lists the options.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from reid_lib.losses import ReIDLoss
from reid_lib.models.backbone import BACKBONES
from reid_lib.models.reid_model import build_model


@dataclass(frozen=True)
class ModuleCost:
    """One row: a module's qualified name, its parameter count and its forward FLOPs."""

    name: str
    params: int
    forward_flops: int


@dataclass(frozen=True)
class ModelCost:
    """Cost of one training step on ``batch_size`` images of ``image_size`` (height, width)."""

    modules: list[ModuleCost]
    params: int
    forward_flops: int
    backward_flops: int
    batch_size: int
    image_size: tuple[int, int]

    @property
    def total_flops(self) -> int:
        """Forward plus backward FLOPs of the whole batch."""
        return self.forward_flops + self.backward_flops


def synthetic_batch(
    num_identities: int, images_per_identity: int, image_size: tuple[int, int], seed: int = 0
) -> tuple[Tensor, Tensor]:
    """Random images ``[P*K, 3, H, W]`` and labels ``[P*K]`` (P identities x K images each)."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(num_identities * images_per_identity, 3, *image_size, generator=generator)
    targets = torch.arange(num_identities).repeat_interleave(images_per_identity)
    return images, targets


def _count_at(counts: Mapping[str, int], name: str) -> int:
    """FLOPs of ``name``: its own count, else the sum over its top-most counted descendants.

    Modules whose ``forward`` is never called (a ``ModuleDict``, the backbone whose stages the model
    calls one by one) have no count of their own.
    """
    if name in counts:
        return counts[name]
    under = [k for k in counts if k.startswith(name + ".")]
    return sum(counts[k] for k in under if not any(k.startswith(o + ".") for o in under))


def measure_cost(
    model: nn.Module,
    images: Tensor,
    targets: Tensor,
    criterion: ReIDLoss | None = None,
    *,
    depth: int = 2,
) -> ModelCost:
    """Count parameters and FLOPs of one training step (forward, loss, backward).

    Args:
        model: a :class:`~reid_lib.models.reid_model.ReIDModel` (put in train mode here).
        images: the batch ``[N, 3, H, W]``.
        targets: its labels ``[N]`` (at least two identities, for the triplet loss).
        criterion: the loss; :class:`ReIDLoss` with its defaults when ``None``.
        depth: rows for modules down to this many levels below the model.
    """
    criterion = criterion or ReIDLoss()
    model.train()
    with FlopCounterMode(display=False) as forward:
        loss = criterion(model(images), targets).total
    with FlopCounterMode(display=False) as backward:
        loss.backward()
    model.zero_grad(set_to_none=True)
    root = type(model).__name__
    counts = {k: sum(ops.values()) for k, ops in forward.get_flop_counts().items()}
    rows = [
        ModuleCost(
            name=name,
            params=sum(p.numel() for p in module.parameters()),
            forward_flops=_count_at(counts, f"{root}.{name}"),
        )
        for name, module in model.named_modules()
        if name and name.count(".") < depth
    ]
    return ModelCost(
        modules=rows,
        params=sum(p.numel() for p in model.parameters()),
        forward_flops=forward.get_total_flops(),
        backward_flops=backward.get_total_flops(),
        batch_size=images.shape[0],
        image_size=(images.shape[2], images.shape[3]),
    )


def format_cost_table(cost: ModelCost) -> str:
    """The per-module table of :func:`measure_cost`, with the step's totals underneath."""
    n = cost.batch_size
    lines = [
        f"one training step, batch {n} x 3 x {cost.image_size[0]} x {cost.image_size[1]}",
        f"{'module':<34} {'params':>12} {'fwd GFLOPs/img':>15}",
    ]
    for row in cost.modules:
        indent = "  " * row.name.count(".")
        lines.append(
            f"{indent + row.name:<34} {row.params:>12,} {row.forward_flops / n / 1e9:>15.3f}"
        )
    lines += [
        f"{'model':<34} {cost.params:>12,} {cost.forward_flops / n / 1e9:>15.3f}"
        "   (forward incl. loss)",
        f"{'backward':<34} {'':>12} {cost.backward_flops / n / 1e9:>15.3f}",
        f"{'forward + backward':<34} {'':>12} {cost.total_flops / n / 1e9:>15.3f}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Print the cost table of the full model on a synthetic batch."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="resnet50", choices=sorted(BACKBONES))
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--identities", type=int, default=4, help="P of the P x K batch")
    parser.add_argument("--per-identity", type=int, default=2, help="K of the P x K batch")
    parser.add_argument("--num-classes", type=int, default=751, help="classifier width")
    parser.add_argument("--depth", type=int, default=2, help="module levels shown")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    model = build_model(args.num_classes, backbone=args.backbone)
    images, targets = synthetic_batch(args.identities, args.per_identity, (args.height, args.width))
    print(f"full model ({args.backbone}, random initialisation, {args.num_classes} classes)")
    print(format_cost_table(measure_cost(model, images, targets, depth=args.depth)))


if __name__ == "__main__":
    main()
