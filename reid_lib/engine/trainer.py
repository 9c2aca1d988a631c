"""The training loop: epochs, AMP, checkpoints, resume, evaluation and results files.

One :class:`Trainer` drives one run. Per epoch it iterates the P x K loader (tqdm shows the epoch,
the loss terms, the learning rate and images/s), steps the warm-up + multistep schedule, evaluates
when due, writes the results file and the checkpoints ``last.pt`` and ``best.pt``.

Choices that are ours, not the paper's:

- AMP (bf16 on GPUs with bf16 tensor cores, else fp16 with a gradient scaler) and
  ``channels_last`` apply on CUDA; the CPU runs in float32 unless ``run.amp=bf16`` asks for bf16
  autocast. The losses compute in float32 whatever the autocast state.
- The loss is read (a device sync) once per logging interval, not at every step; a non-finite
  loss stops the run at that read, naming the first bad step.
- The learning rate changes once per epoch (see :mod:`reid_lib.engine.schedule`).
- Evaluation runs on rank 0 and leaves the random generators as it found them, so that when and how
  often a run evaluates never changes its training.
- Ctrl-C is deferred to the end of the current step, and so is every further Ctrl-C; then
  ``last.pt`` is written, with Ctrl-C still deferred, with the weights, generators and step
  reached, and ``interrupted: True``. Ctrl-\\ (SIGQUIT) stops at once, without saving.
  With a sampler that can skip batches (``set_epoch(epoch, start_batch)``, as
  :class:`~reid_lib.data.sampler.PKSampler`) the resumed run continues with the next batch; with
  another sampler it restarts that epoch. In deterministic mode on a CPU with
  ``data.num_workers=0``, stop-and-resume ends with the same weights as an uninterrupted run.
"""

from __future__ import annotations

import inspect
import math
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from reid_lib.data.records import ReIDDataset
from reid_lib.engine.checkpoint import (
    BEST,
    LAST,
    check_compatible,
    link_checkpoint,
    load_training_checkpoint,
    save_checkpoint,
)
from reid_lib.engine.config import Config, OptimConfig, ScheduleConfig, save_yaml
from reid_lib.engine.distributed import SINGLE_PROCESS, DistInfo, all_true, any_true, barrier
from reid_lib.engine.machine import device_description, numerics_label, training_numerics
from reid_lib.engine.metrics_log import METRICS_LOG, MetricsLog
from reid_lib.engine.provenance import code_state
from reid_lib.engine.reproducibility import rng_state, set_rng_state
from reid_lib.engine.results import make_results, write_results
from reid_lib.engine.schedule import WarmupMultiStepLR
from reid_lib.losses.cross_entropy import check_labels

#: ``model -> {variant: metrics entry}``, as :func:`reid_lib.engine.evaluation.evaluate_model`.
EvaluateFn = Callable[[nn.Module], Mapping[str, Mapping[str, float | int]]]


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the run stopped and kept its last good checkpoint."""


def resolve_device(name: str, info: DistInfo = SINGLE_PROCESS) -> torch.device:
    """``"auto"``: this process's GPU if CUDA is available, else the CPU; otherwise ``name``."""
    if name == "auto":
        return (
            torch.device("cuda", info.local_rank)
            if torch.cuda.is_available()
            else torch.device("cpu")
        )
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"run.device={name!r}, but CUDA is not available; use 'cpu' or 'auto'")
    return device


#: The first CUDA compute capability with bf16 tensor cores (Ampere); a T4 (7.5) has none.
BF16_CAPABILITY = (8, 0)


def amp_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``run.amp`` on ``device``; ``None`` runs in float32.

    ``auto``: bf16 on a GPU of compute capability 8.0 or more, fp16 (with a gradient scaler) on an
    older one, float32 on the CPU. On the CPU, ``bf16`` is honoured (CI checks the full path with
    it) and ``fp16`` refused.

    Raises:
        ValueError: ``fp16`` on the CPU.
    """
    if amp == "off":
        return None
    if device.type != "cuda":
        if amp == "fp16":
            raise ValueError("run.amp=fp16 needs a GPU; on the CPU use run.amp=bf16 or off")
        return torch.bfloat16 if amp == "bf16" else None
    if amp == "auto":
        bf16 = torch.cuda.get_device_capability(device) >= BF16_CAPABILITY
        return torch.bfloat16 if bf16 else torch.float16
    return {"bf16": torch.bfloat16, "fp16": torch.float16}[amp]


def build_optimizer(cfg: OptimConfig, params: Any) -> torch.optim.Optimizer:
    """Adam (the spec's), AdamW or SGD with momentum, from the ``optim`` section."""
    if cfg.name == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.name == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr, weight_decay=cfg.weight_decay, momentum=cfg.momentum)


def build_scheduler(cfg: ScheduleConfig, optimizer: torch.optim.Optimizer) -> WarmupMultiStepLR:
    """The warm-up + multistep schedule of the ``schedule`` section."""
    return WarmupMultiStepLR(
        optimizer,
        warmup_epochs=cfg.warmup_epochs,
        warmup_factor=cfg.warmup_factor,
        milestones=cfg.milestones,
        gamma=cfg.gamma,
    )


def _add_up(sums: dict[str, float], rows: list[dict[str, float]]) -> dict[str, float]:
    """Add each row's values to ``sums`` by name; return the last row."""
    for row in rows:
        for key, value in row.items():
            sums[key] = sums.get(key, 0.0) + value
    return rows[-1]


def _can_skip_batches(sampler: Any) -> bool:
    """Whether ``sampler.set_epoch`` can start an epoch at a later batch (``start_batch``)."""
    return sampler is not None and "start_batch" in inspect.signature(sampler.set_epoch).parameters


def _epoch_sampler(loader: Any) -> Any:
    """The loader's sampler that reshuffles per epoch (has ``set_epoch``), or ``None``."""
    for sampler in (getattr(loader, "batch_sampler", None), getattr(loader, "sampler", None)):
        if hasattr(sampler, "set_epoch"):
            return sampler
    return None


class _DeferredInterrupt:
    """Within the block, every SIGINT only sets ``requested`` and says so once on stderr.

    The trainer stops at the end of the current step and saves with SIGINT still deferred, so no
    number of Ctrl-C presses can record half a step or cut a checkpoint short. SIGTERM and
    SIGQUIT (Ctrl-\\) still stop the process at once. Only the main thread can install signal
    handlers; elsewhere Ctrl-C interrupts as usual.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def _handle(self, signum: int, frame: Any) -> None:
        if not self.requested:
            sys.stderr.write(
                "\nCtrl-C: stopping at the end of this step and saving last.pt "
                "(further Ctrl-C wait for it; Ctrl-\\ stops at once, without saving)\n"
            )
        self.requested = True

    def __enter__(self) -> _DeferredInterrupt:
        self.requested = False
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


@dataclass
class FitResult:
    """How a :meth:`Trainer.fit` call ended."""

    status: Literal["finished", "interrupted"]
    epochs_completed: int
    best: dict[str, Any] | None
    images_per_s: float | None
    results_path: Path | None
    #: Steps trained by this call: 0 when a resumed run had already trained every epoch.
    steps_this_call: int = 0


class Trainer:
    """Trains ``model`` with ``loss_fn`` on ``train_loader`` as ``cfg`` says.

    Args:
        cfg: the run's config (optimiser, schedule, run settings; saved with the run).
        model: the model; in train mode ``model(images)`` gives what ``loss_fn`` takes.
        loss_fn: ``(output, pids) -> LossOutput``.
        train_loader: yields batch dicts (``images``, ``pids``, ...), P x K per process.
        num_classes: training identities (stored in checkpoints, checked on resume).
        device: where to train; the model is moved there.
        info: the process group (:func:`~reid_lib.engine.distributed.init_distributed`).
        evaluate_fn: evaluates the (unwrapped) model, on rank 0; ``None`` skips evaluation.
        dataset: the dataset, for the results file's provenance (needed with ``evaluate_fn``).
    """

    def __init__(
        self,
        cfg: Config,
        model: nn.Module,
        loss_fn: Callable[..., Any],
        train_loader: Any,
        *,
        num_classes: int,
        device: torch.device,
        info: DistInfo = SINGLE_PROCESS,
        evaluate_fn: EvaluateFn | None = None,
        dataset: ReIDDataset | None = None,
    ) -> None:
        self.cfg = cfg
        self.device = device
        self.info = info
        self.num_classes = num_classes
        self.channels_last = cfg.run.channels_last and device.type == "cuda"
        self.model = model.to(device)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.net: nn.Module = self.model
        if info.enabled:
            device_ids = [device.index] if device.type == "cuda" else None
            self.net = DistributedDataParallel(self.model, device_ids=device_ids)
        if cfg.run.compile:
            # Only the training passes: checkpoints and evaluation use the module itself.
            self.net = torch.compile(self.net)
        # A loss module's buffers (a per-set softmax's class groups) go where the logits are.
        self.loss_fn = loss_fn.to(device) if isinstance(loss_fn, nn.Module) else loss_fn
        self.loader = train_loader
        self.sampler = _epoch_sampler(train_loader)
        self.optimizer = build_optimizer(cfg.optim, self.model.parameters())
        self.scheduler = build_scheduler(cfg.schedule, self.optimizer)
        self.amp_dtype = amp_dtype(cfg.run.amp, device)
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.amp_dtype == torch.float16)
        self.evaluate_fn = evaluate_fn
        self.dataset = dataset
        self.run_dir = cfg.run_dir()
        self.epoch = 0
        self.global_step = 0
        self._first_step = 0
        self.step_in_epoch = 0
        self._step_rng = rng_state()
        self._resume_rng: dict[str, Any] | None = None
        self._interrupt = _DeferredInterrupt()
        self.best: dict[str, Any] | None = None
        self.images_per_s: float | None = None
        #: The numerics fingerprint of each machine that trained the model, in order (None for
        #: one that is unknown); :meth:`fit` adds this one's.
        self.numerics: list[str | None] = []
        self.results_path: Path | None = None
        # The commit this process runs, asked now: the results file is written hours later.
        code_state()
        self._start = time.perf_counter()
        self._elapsed_before_resume = 0.0
        self.log = (
            MetricsLog(self.run_dir / METRICS_LOG, tensorboard=cfg.run.tensorboard)
            if info.is_main
            else None
        )

    # -- one step ---------------------------------------------------------------------------

    def forward_backward(self, batch: Mapping[str, Any]) -> Any:
        """Forward, loss and backward on one batch (gradients averaged over processes).

        Nothing here waits for the device: the labels are checked on the CPU before they move,
        and the loss is read later, once per logging interval (:meth:`_read_losses`).

        Raises:
            ValueError: a label outside the classifier's range.
        """
        check_labels(batch["pids"], self.num_classes)
        images = batch["images"].to(self.device, non_blocking=True)
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        targets = batch["pids"].to(self.device, non_blocking=True)
        with torch.autocast(
            self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None
        ):
            losses = self.loss_fn(self.net(images), targets)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(losses.total).backward()
        return losses

    def _read_losses(self, pending: list[tuple[int, torch.Tensor]], names: list[str]) -> list:
        """The loss values of the steps in ``pending`` (one device sync for all of them).

        ``pending`` holds ``(global step, [loss, *terms])`` per step since the last read.

        Raises:
            NonFiniteLossError: a step's loss is NaN or infinite on any process; the message
                names the first such step.
        """
        rows = torch.stack([values for _, values in pending]).tolist()
        bad = next((i for i, row in enumerate(rows) if not all(map(math.isfinite, row))), None)
        if not all_true(bad is None, self.info, self.device):
            step, row = pending[bad or 0][0], rows[bad or 0]
            terms = ", ".join(f"{k}={v:.4g}" for k, v in zip(names, row, strict=True))
            last = self.run_dir / LAST
            kept = f"the last good checkpoint is {last}" if last.exists() else "no checkpoint yet"
            raise NonFiniteLossError(
                f"the loss is not finite at epoch {self.epoch + 1}, step {step} ({terms}); "
                f"training stopped, {kept}. Try a lower optim.lr or run.amp=off."
            )
        pending.clear()
        return [dict(zip(names, row, strict=True)) for row in rows]

    def optimizer_step(self) -> None:
        """Apply the gradients (through the scaler when fp16 AMP is on)."""
        self.scaler.step(self.optimizer)
        self.scaler.update()

    # -- epochs -----------------------------------------------------------------------------

    def train_epoch(self) -> dict[str, float]:
        """One pass over the loader; returns the epoch's mean loss terms, lr and images/s."""
        self.net.train()
        skip = self.step_in_epoch  # > 0 only when resuming an interrupted epoch
        if skip and _can_skip_batches(self.sampler):
            self.sampler.set_epoch(self.epoch, skip)
        else:
            skip = 0
            if self.sampler is not None:
                self.sampler.set_epoch(self.epoch)
        self.step_in_epoch = skip
        lr = self.optimizer.param_groups[0]["lr"]
        sums: dict[str, float] = {}
        steps = images = 0
        start = time.perf_counter()
        batches = iter(self.loader)
        if self._resume_rng is not None:
            # Mid-epoch resume: the generators continue from the interrupted step, after the new
            # loader iterator has drawn its seed (as the uninterrupted run's iterator did earlier).
            set_rng_state(self._resume_rng)
            self._resume_rng = None
        bar = tqdm(
            batches,
            total=len(self.loader) if hasattr(self.loader, "__len__") else None,
            desc=f"epoch {self.epoch + 1}/{self.cfg.schedule.epochs}",
            disable=not (self.cfg.run.progress and self.info.is_main),
            dynamic_ncols=True,
        )
        pending: list[tuple[int, torch.Tensor]] = []
        names: list[str] = []
        for batch in bar:
            losses = self.forward_backward(batch)
            self.optimizer_step()
            self.global_step += 1
            self.step_in_epoch += 1
            self._step_rng = rng_state()
            if any_true(self._interrupt.requested, self.info, self.device):
                raise KeyboardInterrupt
            steps += 1
            images += len(batch["pids"]) * self.info.world_size
            names = ["loss", *losses.terms]
            terms = [losses.total.detach(), *(v.detach() for v in losses.terms.values())]
            pending.append((self.global_step, torch.stack(terms).float()))
            rate = images / max(time.perf_counter() - start, 1e-9)
            if self.global_step % self.cfg.run.log_every == 0:
                values = _add_up(sums, self._read_losses(pending, names))
                bar.set_postfix(
                    {k: f"{v:.3f}" for k, v in values.items()}
                    | {"lr": f"{lr:.2e}", "img/s": f"{rate:.1f}"}
                )
                if self.log is not None:
                    self.log.log(
                        "train_step",
                        epoch=self.epoch + 1,
                        step=self.global_step,
                        lr=lr,
                        images_per_s=rate,
                        **values,
                    )
        if pending:
            _add_up(sums, self._read_losses(pending, names))
        if steps == 0 and skip:
            # Resumed after the epoch's last step: nothing is left to train in it.
            return {"lr": lr}
        if steps == 0:
            raise ValueError(
                "the training loader yielded no batch; the P x K sampler needs at least "
                "sampler.num_identities identities with images (check the dataset and sampler)"
            )
        self.images_per_s = images / (time.perf_counter() - start)
        return {
            **{k: v / steps for k, v in sums.items()},
            "lr": lr,
            "images_per_s": self.images_per_s,
        }

    def _due_for_evaluation(self) -> bool:
        every, epochs = self.cfg.eval.every, self.cfg.schedule.epochs
        return self.epoch == epochs or (every > 0 and self.epoch % every == 0)

    def evaluate(self) -> dict[str, Any]:
        """Evaluate on rank 0, write the results file, track the best score; RNG left unchanged."""
        saved = rng_state()
        started = time.perf_counter()
        metrics = self.evaluate_fn(self.model)
        set_rng_state(saved)
        results = make_results(
            self.cfg,
            self.dataset,
            metrics,
            epoch=self.epoch,
            device=device_description(self.device),
            numerics=numerics_label(self.numerics),
            wall_time_s=self.wall_time_s(),
            images_per_s=self.images_per_s,
        )
        self.results_path = write_results(results, self.cfg.run.results_dir)
        key = self.cfg.eval.best_metric
        value = float(metrics["single_query"][key])
        self.log.log(
            "eval",
            epoch=self.epoch,
            step=self.global_step,
            eval_time_s=time.perf_counter() - started,
            **{f"{variant}/{k}": v for variant, m in metrics.items() for k, v in m.items()},
        )
        if self.best is None or value > self.best["value"]:
            self.best = {"metric": key, "value": value, "epoch": self.epoch}
            return {"improved": True, "metrics": metrics}
        return {"improved": False, "metrics": metrics}

    def wall_time_s(self) -> float:
        """Seconds this run has spent in the trainer, summed over resumes."""
        return self._elapsed_before_resume + time.perf_counter() - self._start

    # -- checkpoints ------------------------------------------------------------------------

    def _gathered_rng(self, state: dict[str, Any]) -> list[dict[str, Any]]:
        if not self.info.enabled:
            return [state]
        states: list[Any] = [None] * self.info.world_size
        dist.all_gather_object(states, state)
        return states

    def state_dict(self, rng: list[dict[str, Any]], *, interrupted: bool = False) -> dict[str, Any]:
        """Everything a resume needs, as tensors and plain values."""
        return {
            "format_version": 1,
            "epoch": self.epoch,
            "global_step": self.global_step,
            "step_in_epoch": self.step_in_epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "sampler": self.sampler.state_dict() if hasattr(self.sampler, "state_dict") else None,
            "rng": rng,
            "config": self.cfg.to_dict(),
            "num_classes": self.num_classes,
            "best": self.best,
            "images_per_s": self.images_per_s,
            "wall_time_s": self.wall_time_s(),
            "device": device_description(self.device),
            "numerics": self.numerics,
            "interrupted": interrupted,
        }

    def save(self, *, best: bool = False, interrupted: bool = False) -> None:
        """Write ``last.pt`` (and ``best.pt``) on rank 0; every process joins the RNG gather.

        An interrupted run stores the generators as they were at the end of its last step.
        """
        rng = self._gathered_rng(self._step_rng if interrupted else rng_state())
        if not self.info.is_main:
            return
        state = self.state_dict(rng, interrupted=interrupted)
        last = save_checkpoint(state, self.run_dir / LAST)
        if best:
            link_checkpoint(last, self.run_dir / BEST)

    def resume(self, path: str | Path) -> None:
        """Restore model, optimiser, scheduler, scaler, sampler and RNG states from ``path``.

        Raises:
            CheckpointError: unsafe file, or a model config / class count that does not match.
        """
        state = load_training_checkpoint(path)
        check_compatible(state, self.cfg.to_dict(), self.num_classes, path=path)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        if state["sampler"] is not None and hasattr(self.sampler, "load_state_dict"):
            self.sampler.load_state_dict(state["sampler"])
        rng = state["rng"]
        own = rng[self.info.rank] if self.info.rank < len(rng) else rng[0]
        if state["step_in_epoch"] and _can_skip_batches(self.sampler):
            self._resume_rng = own
        else:
            set_rng_state(own)
        self.epoch = state["epoch"]
        self.global_step = state["global_step"]
        self.step_in_epoch = state["step_in_epoch"]
        self.best = state["best"]
        self.images_per_s = state["images_per_s"]
        self.numerics = state.get("numerics", [None])
        self._elapsed_before_resume = state["wall_time_s"]
        self._start = time.perf_counter()
        if self.log is not None:
            self.log.log(
                "resume",
                epoch=self.epoch,
                step=self.global_step,
                path=str(path),
                interrupted=state["interrupted"],
            )

    # -- the run ----------------------------------------------------------------------------

    def fit(self) -> FitResult:
        """Train until ``schedule.epochs``; Ctrl-C saves ``last.pt`` and returns cleanly."""
        if self.info.is_main:
            save_yaml(self.cfg, self.run_dir / "config.yaml")
        self._first_step = self.global_step
        this_machine = training_numerics(self.device)
        if self.numerics[-1:] != [this_machine]:
            self.numerics.append(this_machine)
        with self._interrupt:
            try:
                while self.epoch < self.cfg.schedule.epochs:
                    self._run_epoch()
            except KeyboardInterrupt:
                # Raised between steps (a deferred Ctrl-C, or one outside the main thread while
                # the loader hands out a batch); the save itself is not interruptible.
                self.save(interrupted=True)
                if self.log is not None:
                    self.log.log("interrupted", epoch=self.epoch, step=self.global_step)
                return self._finish("interrupted")
        return self._finish("finished")

    def _run_epoch(self) -> None:
        """Train one epoch, step the schedule, evaluate when due, write the checkpoints."""
        stats = self.train_epoch()
        with warnings.catch_warnings():
            # After a resume at an epoch's last step, this process has not called
            # optimizer.step(); torch would warn, but the schedule is where the checkpoint left it.
            warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler.step\(\)`")
            self.scheduler.step()
        self.epoch += 1
        self.step_in_epoch = 0
        if self.log is not None:
            self.log.log("epoch", epoch=self.epoch, step=self.global_step, **stats)
        # The trained epoch reaches the disk before the evaluation, which reads the test images
        # and may fail; an evaluation that ran saves again, with its score and best.pt.
        self.save()
        if self.evaluate_fn is not None and self._due_for_evaluation():
            improved = False
            if self.info.is_main:
                improved = self.evaluate()["improved"]
            barrier(self.info)
            self.save(best=improved)

    def _finish(self, status: Literal["finished", "interrupted"]) -> FitResult:
        if self.log is not None:
            self.log.close()
        return FitResult(
            status,
            self.epoch,
            self.best,
            self.images_per_s,
            self.results_path,
            steps_this_call=self.global_step - self._first_step,
        )
