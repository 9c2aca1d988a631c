"""What the paper's modules cost: the full model beside its baseline, the models it is compared
with and a plain torchvision ResNet, side by side in one process.

For each size it prints one line per model:

- ``train img/s``: whole training steps of :class:`~reid_lib.engine.trainer.Trainer` (forward,
  loss, backward, optimiser step; AMP and channels_last as the config says) on random P x K
  batches, so data loading is not included; ``x baseline`` is that as a fraction of the
  ``baseline`` row's (the backbone with its stage3/stage4 BN-neck heads);
- ``x baseline by FLOPs``: the baseline's FLOPs per training image over the model's, the ratio
  the model would reach if its time went by FLOPs alone (torch's flop counter: convolutions,
  matrix products and attention, whose backward it counts as the fused kernel computes it);
- ``infer img/s``: eval mode without gradients (the model's test embedding), and ``x plain``, that
  as a fraction of the plain torchvision ResNet's (its classifier logits, stride-2 stage4);
  ``x plain by FLOPs`` is the same ratio of FLOPs per image;
- ``train MiB``: what a training step holds at the start of its backward pass, which is its peak
  up to the allocator's workspace: the tensors saved for the backward pass (each storage once),
  the weights, their gradients and Adam's two moments. On a GPU, ``peak MiB`` is also the
  allocator's own peak over the timed steps.

The sizes are the ``full`` preset (ResNet-50, 256x128, six parts, batch 16 x 4: the paper's) and the
``cpu`` preset (ResNet-18, 128x64, four parts, batch 8 x 4), both from a random initialisation. On
a CPU the paper's size is timed at 4 x 4 images (``--identities``), which fits in 24 GiB; its
memory column is still that of 16 x 4, scaled from the timed batch.
Rounds interleave the models and each model keeps its fastest round, so that a burst of other
load on a shared machine slows one round of every model, not one model::

    python -m benchmarks.train_speed                       # both sizes, about 8 minutes on 2 cores
    python -m benchmarks.train_speed --sizes cpu --rounds 5
    python -m benchmarks.train_speed run.amp=bf16 --sizes paper --rows full baseline
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torchvision
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from reid_lib.engine.config import Config, apply_overrides, load_config
from reid_lib.engine.cost_report import synthetic_batch
from reid_lib.engine.experiment import build_loss, build_model_from_config
from reid_lib.engine.trainer import Trainer, amp_dtype, resolve_device
from reid_lib.losses import LossOutput, label_smoothed_cross_entropy
from reid_lib.studies import load_rows

NUM_CLASSES = 100
ROWS = ("full", "baseline", "resnet-bot", "pcb", "hpm")
#: Size name -> the preset that sets the backbone, image size, parts and batch.
SIZES = {"paper": "full", "cpu": "cpu"}
#: P of the batch timed at the paper's size on a CPU: 4 x 4 images. At 16 x 4 the six models
#: outgrew 24 GiB of host memory in one process; the memory column is still that of 16 x 4,
#: scaled from the timed batch.
CPU_TIMING_IDENTITIES = 4
#: The name of the plain torchvision model of a backbone.
PLAIN = "torchvision {backbone}"

LossFn = Callable[[object, Tensor], LossOutput]


@dataclass
class Candidate:
    """A model to time: its config (the size, device and AMP), its module and its loss."""

    name: str
    cfg: Config
    model: nn.Module
    loss_fn: LossFn


def plain_resnet(backbone: str) -> tuple[nn.Module, LossFn]:
    """torchvision's ``backbone`` (random weights, stride-2 stage4) and a label-smoothed
    cross-entropy on its logits: the cost of a ResNet with nothing of the paper's."""
    model = getattr(torchvision.models, backbone)(num_classes=NUM_CLASSES)

    def loss_fn(logits: Tensor, targets: Tensor) -> LossOutput:
        ce = label_smoothed_cross_entropy(logits, targets)
        return LossOutput(total=ce, terms={"ce": ce})

    return model, loss_fn


def row_configs(cfg: Config, rows: Sequence[str]) -> dict[str, Config]:
    """``cfg`` with each study row's overrides applied, by row name."""
    defined = load_rows()
    unknown = [row for row in rows if row not in defined]
    if unknown:
        raise SystemExit(f"--rows: unknown row(s) {unknown}; expected some of {list(defined)}")
    return {row: apply_overrides(cfg, defined[row]) for row in rows}


def candidates(cfg: Config, rows: Sequence[str]) -> list[Candidate]:
    """The study ``rows`` under ``cfg``, then the plain torchvision model of its backbone."""
    found = []
    for row, config in row_configs(cfg, rows).items():
        torch.manual_seed(0)
        found.append(
            Candidate(row, config, build_model_from_config(config, NUM_CLASSES), build_loss(config))
        )
    plain, loss_fn = plain_resnet(cfg.model.backbone)
    found.append(Candidate(PLAIN.format(backbone=cfg.model.backbone), cfg, plain, loss_fn))
    return found


def batch_of(cfg: Config) -> dict[str, Tensor]:
    """A random P x K batch of ``cfg``'s image size, as the trainer takes it."""
    images, pids = synthetic_batch(
        cfg.sampler.num_identities, cfg.sampler.num_instances, (cfg.data.height, cfg.data.width)
    )
    return {"images": images, "pids": pids}


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def trainer_of(candidate: Candidate) -> Trainer:
    """A :class:`Trainer` of ``candidate`` on its config's device (no loader: steps are fed)."""
    device = resolve_device(candidate.cfg.run.device)
    return Trainer(
        candidate.cfg,
        candidate.model,
        candidate.loss_fn,
        [],
        num_classes=NUM_CLASSES,
        device=device,
    )


def train_seconds(trainer: Trainer, batch: dict[str, Tensor], steps: int) -> float:
    """Wall seconds of ``steps`` training steps (forward, loss, backward, optimiser step)."""
    _synchronize(trainer.device)
    start = time.perf_counter()
    for _ in range(steps):
        trainer.forward_backward(batch)
        trainer.optimizer_step()
    _synchronize(trainer.device)
    return time.perf_counter() - start


def inference_seconds(model: nn.Module, cfg: Config, images: Tensor, steps: int) -> float:
    """Wall seconds of ``steps`` eval-mode forward passes on ``images`` (no gradients, AMP)."""
    device = resolve_device(cfg.run.device)
    model.eval()
    dtype = amp_dtype(cfg.run.amp, device)
    images = images.to(device)
    if cfg.run.channels_last and device.type == "cuda":
        images = images.contiguous(memory_format=torch.channels_last)
    with torch.no_grad(), torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
        _synchronize(device)
        start = time.perf_counter()
        for _ in range(steps):
            model(images)
        _synchronize(device)
    model.train()
    return time.perf_counter() - start


def training_flops_per_image(candidate: Candidate) -> float:
    """FLOPs of one training step (forward, loss, backward) per image, on the CPU."""
    model = candidate.model
    device = next(model.parameters()).device
    images, pids = synthetic_batch(2, 2, (candidate.cfg.data.height, candidate.cfg.data.width))
    counter = FlopCounterMode(display=False)
    with counter:
        candidate.loss_fn(model(images.to(device)), pids.to(device)).total.backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / len(pids)


def inference_flops_per_image(candidate: Candidate) -> float:
    """FLOPs of one eval-mode forward pass (the test embedding) per image, on the CPU."""
    model = candidate.model.eval()
    device = next(model.parameters()).device
    images, _ = synthetic_batch(2, 1, (candidate.cfg.data.height, candidate.cfg.data.width))
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(images.to(device))
    model.train()
    return counter.get_total_flops() / len(images)


def training_memory_mib(
    candidate: Candidate, batch: dict[str, Tensor], images: int | None = None
) -> float:
    """MiB a training step holds when its backward pass starts (see the module docstring).

    The saved tensors are measured on ``batch`` and scaled to ``images`` images (default: the
    batch's own): each image saves the same tensors, and what does not grow with the batch (the
    BatchNorm statistics, a triplet loss's distance matrix) is a few KiB.
    """
    model = candidate.model
    device = next(model.parameters()).device
    params = list(model.parameters())
    weights = {p.untyped_storage().data_ptr() for p in params}
    saved: dict[int, int] = {}

    def keep(tensor: Tensor) -> Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in weights:
            saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(keep, lambda tensor: tensor):
        dtype = amp_dtype(candidate.cfg.run.amp, device)
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            candidate.loss_fn(model(batch["images"].to(device)), batch["pids"].to(device))
    scale = (images or len(batch["pids"])) / len(batch["pids"])
    weight_bytes = sum(p.numel() * p.element_size() for p in params)
    trained_bytes = sum(p.numel() * p.element_size() for p in params if p.requires_grad)
    return (scale * sum(saved.values()) + weight_bytes + 3 * trained_bytes) / 2**20


def side_by_side(
    cfg: Config,
    models: Sequence[Candidate],
    *,
    rounds: int,
    steps: int,
    timing_identities: int | None = None,
) -> list[dict[str, str]]:
    """One line per model of :func:`candidates` (see the module docstring for the columns); the
    last model is the plain ResNet that the inference ratios divide by.

    The memory is that of ``cfg``'s P x K batch; ``timing_identities`` times a smaller P (and
    measures the memory on it, scaled to ``cfg``'s batch).
    """
    device = resolve_device(cfg.run.device)
    preset_images = cfg.sampler.num_identities * cfg.sampler.num_instances
    if timing_identities is not None:
        cfg = apply_overrides(cfg, [f"sampler.num_identities={timing_identities}"])
    batch = batch_of(cfg)
    images = len(batch["pids"])
    memory = {c.name: training_memory_mib(c, batch, preset_images) for c in models}
    flops = {c.name: training_flops_per_image(c) for c in models}
    infer_flops = {c.name: inference_flops_per_image(c) for c in models}
    trainers = {c.name: trainer_of(c) for c in models}
    peak: dict[str, float] = {}
    train_s = {c.name: float("inf") for c in models}
    infer_s = dict(train_s)
    for trainer in trainers.values():  # warm-up: allocator, kernels, Adam's moments
        train_seconds(trainer, batch, 1)
        inference_seconds(trainer.model, trainer.cfg, batch["images"], 1)
    for _ in range(rounds):
        for c in models:
            if device.type == "cuda":
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats(device)
            train_s[c.name] = min(train_s[c.name], train_seconds(trainers[c.name], batch, steps))
            if device.type == "cuda":
                peak[c.name] = torch.cuda.max_memory_allocated(device) / 2**20
            seconds = inference_seconds(trainers[c.name].model, c.cfg, batch["images"], steps)
            infer_s[c.name] = min(infer_s[c.name], seconds)
    plain = models[-1].name
    lines = []
    for c in models:
        line = {
            "model": c.name,
            "train img/s": f"{steps * images / train_s[c.name]:.1f}",
            "x baseline": _ratio(train_s.get("baseline"), train_s[c.name]),
            "x baseline by FLOPs": _ratio(flops.get("baseline"), flops[c.name]),
            "infer img/s": f"{steps * images / infer_s[c.name]:.1f}",
            "x plain": _ratio(infer_s[plain], infer_s[c.name]),
            "x plain by FLOPs": _ratio(infer_flops[plain], infer_flops[c.name]),
            "train MiB": f"{memory[c.name]:,.0f}",
        }
        if peak:
            line["peak MiB"] = f"{peak[c.name]:,.0f}"
        lines.append(line)
    return lines


def _ratio(reference: float | None, value: float) -> str:
    """``reference / value`` to two places, or ``-`` when there is no reference."""
    return "-" if reference is None else f"{reference / value:.2f}"


def table(lines: list[dict[str, str]]) -> str:
    """A Markdown table of ``lines`` (all with the same keys)."""
    header = list(lines[0])
    rows = [" | ".join(str(line[h]) for h in header) for line in lines]
    return "\n".join(
        ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *[f"| {r} |" for r in rows]]
    )


def size_heading(name: str, cfg: Config, timing_identities: int | None = None) -> str:
    """One line that says what a table was measured on."""
    device = resolve_device(cfg.run.device)
    p, k = cfg.sampler.num_identities, cfg.sampler.num_instances
    timed = f" (timed at {timing_identities}x{k})" if timing_identities not in (None, p) else ""
    return (
        f"{name} ({SIZES.get(name, name)} preset): {cfg.model.backbone}, "
        f"{cfg.data.height}x{cfg.data.width}, batch {p}x{k}{timed}, device {device}, AMP "
        f"{amp_dtype(cfg.run.amp, device) or 'off'}, threads {torch.get_num_threads()}, "
        f"torch {torch.__version__}"
    )


def timing_identities(name: str, cfg: Config, chosen: int | None) -> int | None:
    """The P to time ``name`` at: ``chosen``, else :data:`CPU_TIMING_IDENTITIES` for the paper's
    size on a CPU, else the preset's own (``None``)."""
    if chosen is not None:
        return chosen
    on_cpu = resolve_device(cfg.run.device).type == "cpu"
    return CPU_TIMING_IDENTITIES if name == "paper" and on_cpu else None


def main(argv: list[str] | None = None) -> None:
    """Print the side-by-side table of each size."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.train_speed", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument("--rows", nargs="+", default=list(ROWS), help="study rows to time")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds; the fastest counts")
    parser.add_argument("--steps", type=int, default=1, help="steps per model and round")
    parser.add_argument(
        "--identities",
        type=int,
        help=f"P of the timed batches (default: the preset's; {CPU_TIMING_IDENTITIES} at the "
        "paper's size on a CPU)",
    )
    parser.add_argument("overrides", nargs="*", metavar="key.sub=value")
    args = parser.parse_args(argv)
    for name in args.sizes:
        cfg = load_config(
            SIZES[name],
            ["model.pretrained=null", "run.output_dir=runs/benchmark", *args.overrides],
        )
        timed = timing_identities(name, cfg, args.identities)
        print(size_heading(name, cfg, timed), flush=True)
        lines = side_by_side(
            cfg,
            candidates(cfg, args.rows),
            rounds=args.rounds,
            steps=args.steps,
            timing_identities=timed,
        )
        print(table(lines), flush=True)
        print(flush=True)


if __name__ == "__main__":
    main()
