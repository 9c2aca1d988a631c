"""How learnable the synthetic dataset is on a CPU: a small stand-in CNN trained from scratch.

    python -m benchmarks.synthetic_learnability [--preset small] [--seed 0] [--epochs 15] \
        [--height 64 --width 32] [--knob lighting=0.8 ...] [--threads 1]

Generates the preset into a temporary folder, trains torchvision's ResNet-18 from random weights
with label-smoothed cross-entropy on P x K batches (16 x 4; Adam, lr 1e-3), and prints a table of
loss, training accuracy, Rank-1 and mAP (single query, cosine distance) every few epochs. It probes
the difficulty of the data (chance level, learning in minutes, headroom), not the paper's model.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch
import torchvision
from torch import nn

from reid_lib.data import build_dataset
from reid_lib.data.loaders import build_test_loaders, build_train_loader
from reid_lib.data.make_synthetic import parse_knob
from reid_lib.data.synthetic import PRESETS, generate_synthetic
from reid_lib.metrics.distance import compute_distance
from reid_lib.metrics.feature_extraction import extract_features
from reid_lib.metrics.ranking import evaluate


def _rank1_map(model: nn.Module, query, gallery) -> tuple[float, float]:
    embed = nn.Sequential(*list(model.children())[:-1], nn.Flatten())
    qf, qp, qc = extract_features(embed, query, flip=False, progress=False)
    gf, gp, gc = extract_features(embed, gallery, flip=False, progress=False)
    result = evaluate(compute_distance(qf, gf, "cosine"), qp, gp, qc, gc)
    return result.rank(1), result.mAP


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="small", choices=list(PRESETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--eval-every", type=int, default=5)
    parser.add_argument("--height", type=int, default=64)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--knob", type=parse_knob, action="append", default=[])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    size = (args.height, args.width)
    config = PRESETS[args.preset].with_knobs(**dict(args.knob))

    with tempfile.TemporaryDirectory() as root:
        manifest = generate_synthetic(root, config, seed=args.seed, preset=args.preset)
        dataset = build_dataset("synthetic", root)
        train = build_train_loader(dataset.train, image_size=size, seed=args.seed)
        query, gallery = build_test_loaders(dataset, image_size=size, batch_size=256)
        model = torchvision.models.resnet18(num_classes=dataset.num_train_pids)
        optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=5e-4)
        print(f"synthetic {args.preset!r} seed {args.seed} sha256 {manifest['sha256']}")
        print(f"knobs {manifest['config']['knobs']}; ResNet-18 from scratch at {size}")
        print(f"{'epoch':>5}{'loss':>8}{'train acc':>11}{'rank-1':>9}{'mAP':>8}{'seconds':>9}")
        rank1, mean_ap = _rank1_map(model, query, gallery)
        print(f"{0:>5}{'':>8}{'':>11}{rank1:>9.3f}{mean_ap:>8.3f}{'':>9}")
        start = time.perf_counter()
        for epoch in range(1, args.epochs + 1):
            model.train()
            train.sampler.set_epoch(epoch)
            losses, correct, seen = [], 0, 0
            for batch in train:
                logits = model(batch["images"])
                loss = nn.functional.cross_entropy(logits, batch["pids"], label_smoothing=0.1)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                losses.append(loss.item())
                correct += int((logits.argmax(1) == batch["pids"]).sum())
                seen += len(logits)
            if epoch % args.eval_every == 0 or epoch == args.epochs:
                rank1, mean_ap = _rank1_map(model, query, gallery)
                seconds = time.perf_counter() - start
                print(
                    f"{epoch:>5}{sum(losses) / len(losses):>8.3f}{correct / seen:>11.3f}"
                    f"{rank1:>9.3f}{mean_ap:>8.3f}{seconds:>9.0f}"
                )


if __name__ == "__main__":
    main()
