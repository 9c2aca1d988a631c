"""The side-by-side cost table: its memory and FLOP accounting against hand counts."""

from __future__ import annotations

import torch
from torch import nn

from benchmarks.train_speed import (
    Candidate,
    training_flops_per_image,
    training_memory_mib,
)
from reid_lib.engine.config import load_config
from reid_lib.losses import LossOutput


class TwoProjections(nn.Module):
    """``[N, 3, H, W] -> [N, 2]``: the channel means ``x``, then ``x W1^T + x W2^T``; both
    products save ``x`` for their backward pass (a mean saves nothing)."""

    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(3, 2, bias=False)
        self.second = nn.Linear(3, 2, bias=False)
        self.frozen = nn.Parameter(torch.zeros(5), requires_grad=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.mean(dim=(2, 3))
        return self.first(x) + self.second(x)


def summed(output: torch.Tensor, targets: torch.Tensor) -> LossOutput:
    total = output.sum()
    return LossOutput(total=total, terms={"sum": total})


def candidate() -> Candidate:
    return Candidate("two projections", load_config("smoke"), TwoProjections(), summed)


def test_training_memory_counts_each_saved_storage_once_and_four_copies_of_the_weights():
    batch = {"images": torch.randn(2, 3, 8, 4), "pids": torch.tensor([0, 1])}
    # Saved: the means once (2 x 3 floats), although both products keep them; the weights are not
    # counted as saved. Weights: 2 x 6 trained floats and 5 frozen ones; gradients and Adam's two
    # moments only for the 12 trained ones.
    expected = 2 * 3 * 4 + (12 + 5) * 4 + 3 * 12 * 4
    assert training_memory_mib(candidate(), batch) == expected / 2**20


def test_training_flops_per_image_is_forward_and_backward_of_the_products():
    # Per image: forward 2 products of 3 x 2 multiply-adds (2 FLOPs each); backward the gradient
    # of each weight (the same count again; the images need none).
    assert training_flops_per_image(candidate()) == 2 * (2 * 3 * 2 * 2)
