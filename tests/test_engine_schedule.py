"""Warm-up + multistep schedule against the closed form."""

from __future__ import annotations

import pytest
import torch

from reid_lib.engine.schedule import WarmupMultiStepLR


def _lrs(scheduler, optimizer, epochs):
    lrs = []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def test_spec_schedule_values():
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=3.5e-4)
    sched = WarmupMultiStepLR(
        opt, warmup_epochs=10, warmup_factor=0.1, milestones=(40, 70), gamma=0.1
    )
    lrs = _lrs(sched, opt, 120)
    expected = [3.5e-4 * (0.1 + 0.9 * e / 10) for e in range(10)]
    expected += [3.5e-4] * 30 + [3.5e-5] * 30 + [3.5e-6] * 50
    assert lrs == pytest.approx(expected, rel=1e-9)


def test_state_dict_resumes_the_same_sequence():
    def make():
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        return opt, WarmupMultiStepLR(
            opt, warmup_epochs=3, warmup_factor=0.25, milestones=(5,), gamma=0.5
        )

    opt, sched = make()
    full = _lrs(sched, opt, 8)
    opt, sched = make()
    first = _lrs(sched, opt, 4)
    opt2, sched2 = make()
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(sched.state_dict())
    assert first + _lrs(sched2, opt2, 4) == full


def test_bad_warmup_factor():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    with pytest.raises(ValueError, match="warmup_factor"):
        WarmupMultiStepLR(opt, warmup_epochs=2, warmup_factor=0.0, milestones=(), gamma=0.1)
