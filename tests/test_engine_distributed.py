"""DDP on the CPU: two Gloo processes train, and their averaged gradients are the expected ones.

DistributedDataParallel averages the per-process gradients. Each process computes its loss (and its
BatchNorm statistics) on its own shard of the global batch, so the reference is one process that
runs the same shards one after the other and averages their gradients.
"""

from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.multiprocessing as mp
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

from reid_lib.engine.checkpoint import load_checkpoint
from reid_lib.engine.distributed import SINGLE_PROCESS, init_distributed, shutdown
from reid_lib.engine.trainer import Trainer
from tests.test_engine_trainer import NUM_CLASSES, _cfg, _Images, _loss, _TinyNet

WORLD = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _global_batch():
    data = _Images(8)
    return {"images": data.images, "pids": data.pids}


def _shard(batch, rank, world):
    return {k: v[rank::world] for k, v in batch.items()}


def _make_trainer(cfg, info, loader=()):
    torch.manual_seed(0)
    return Trainer(
        cfg,
        _TinyNet(),
        _loss,
        loader,
        num_classes=NUM_CLASSES,
        device=torch.device("cpu"),
        info=info,
    )


def _worker(rank, port, tmp_path):
    """One DDP process: the first step's gradients on its shard, then a short training run."""
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(WORLD),
    )
    info = init_distributed(use_cuda=False)
    trainer = _make_trainer(_cfg(tmp_path / "probe"), info)
    torch.manual_seed(100 + rank)
    trainer.forward_backward(_shard(_global_batch(), rank, WORLD))
    torch.save(
        {n: p.grad for n, p in trainer.model.named_parameters()}, tmp_path / f"grads{rank}.pt"
    )

    data = _Images(16)
    sampler = DistributedSampler(data, num_replicas=WORLD, rank=rank, shuffle=True, seed=0)
    trainer = _make_trainer(_cfg(tmp_path), info, DataLoader(data, batch_size=2, sampler=sampler))
    torch.manual_seed(rank)
    result = trainer.fit()
    torch.save(
        {"weights": trainer.model.state_dict(), "epochs": result.epochs_completed},
        tmp_path / f"final{rank}.pt",
    )
    shutdown(info)


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("ddp")
    mp.spawn(_worker, args=(_free_port(), tmp_path), nprocs=WORLD, join=True)
    return tmp_path


def test_ddp_gradients_equal_the_mean_over_shards(ddp_run, tmp_path):
    ddp = [torch.load(ddp_run / f"grads{r}.pt") for r in range(WORLD)]
    single = _make_trainer(_cfg(tmp_path / "single"), SINGLE_PROCESS)
    total = {n: torch.zeros_like(p) for n, p in single.model.named_parameters()}
    for rank in range(WORLD):
        torch.manual_seed(100 + rank)
        single.forward_backward(_shard(_global_batch(), rank, WORLD))
        for n, p in single.model.named_parameters():
            total[n] += p.grad / WORLD
    for name, expected in total.items():
        assert expected.abs().sum() > 0, name
        for rank in range(WORLD):
            torch.testing.assert_close(ddp[rank][name], expected, rtol=1e-5, atol=1e-7)


def test_ddp_training_runs_and_only_rank0_writes(ddp_run):
    finals = [torch.load(ddp_run / f"final{r}.pt") for r in range(WORLD)]
    assert finals[0]["epochs"] == finals[1]["epochs"] == 2
    for key, value in finals[0]["weights"].items():
        if "running" not in key and "num_batches" not in key:
            assert torch.equal(value, finals[1]["weights"][key]), key
    run_dir = _cfg(ddp_run).run_dir()
    state = load_checkpoint(run_dir / "last.pt")
    assert state["epoch"] == 2 and len(state["rng"]) == WORLD
    assert not torch.equal(state["rng"][0]["torch"], state["rng"][1]["torch"])
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    assert sum('"event": "epoch"' in line for line in lines) == 2, "one log, from rank 0 only"
