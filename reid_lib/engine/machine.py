"""The machine a run ran on: its device, its library versions and how its CPU rounds.

Kept apart from :mod:`reid_lib.engine.provenance` because it needs torch, and the modules that only
read results files must not load it.
"""

from __future__ import annotations

import functools
import hashlib
import platform
from collections.abc import Sequence

import torch


def device_description(device: torch.device) -> str:
    """Readable device, e.g. ``"cuda: NVIDIA H100 80GB HBM3"`` or ``"cpu: x86_64 AVX512, 2
    threads"``.

    A CPU names the vector instructions torch's kernels use (``AVX2``, ``AVX512``, ...): CPUs of
    different capability round differently, so the same training can end in different weights.
    """
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    capability = torch.backends.cpu.get_cpu_capability()
    return f"cpu: {platform.machine()} {capability}, {torch.get_num_threads()} threads"


def numerics_fingerprint() -> str:
    """12 hex digits of the SHA-256 of a small ResNet-18 after two Adam steps on fixed data, on
    the CPU with the current thread count.

    CPUs whose kernels round differently (their vector instructions, the libraries' choices) give
    different fingerprints and end a training in different weights; an equal fingerprint makes
    equal weights likely, not certain. The global random state is left as it was. Computed once
    per process and thread count (about a second on an idle CPU).
    """
    return _fingerprint(torch.get_num_threads())


def training_numerics(device: torch.device) -> str | None:
    """The :func:`numerics_fingerprint` of a run on ``device``; None off the CPU (a GPU rounds in
    its own way, which the CPU's fingerprint does not describe: the device string names it)."""
    return numerics_fingerprint() if device.type == "cpu" else None


@functools.cache
def _fingerprint(threads: int) -> str:
    """:func:`numerics_fingerprint` under ``threads`` threads (the key that makes it cacheable)."""
    import torchvision

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = torchvision.models.resnet18(num_classes=8)
        images, labels = torch.randn(4, 3, 64, 32), torch.arange(4)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(2):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(model(images), labels).backward()
        optimiser.step()
    digest = hashlib.sha256()
    for tensor in model.state_dict().values():
        digest.update(tensor.detach().numpy().tobytes())
    return digest.hexdigest()[:12]


def environment() -> dict[str, str]:
    """Versions of Python, torch and torchvision."""
    import torchvision

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
    }


def numerics_label(fingerprints: Sequence[str | None]) -> str | None:
    """The fingerprints of the processes that trained a model, in order, joined by ``+`` (one
    when it never moved to another machine); None when one of them is unknown (a GPU, or a
    checkpoint written before checkpoints recorded it)."""
    if not fingerprints or None in fingerprints:
        return None
    return "+".join(fingerprints)
