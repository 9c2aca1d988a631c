"""Provenance of a run: code version, environment, device and the exact dataset split.

Every results file carries this record, so that a number in the book can be traced to the code,
configuration and data that produced it.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
from pathlib import Path
from typing import Any

import torch

from reid_lib.data.records import SPLITS, ReIDDataset

REPO_ROOT = Path(__file__).resolve().parents[2]


def git_state(root: Path = REPO_ROOT) -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool or None}`` of the checkout holding ``reid_lib``.

    Dirty means tracked files differ from the commit (untracked files, such as new results files,
    do not count). Both are ``None`` outside a git checkout (e.g. an installed wheel).
    """

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def dataset_manifest_sha256(dataset: ReIDDataset) -> str:
    """SHA-256 over the sorted lines ``split, relative path, pid, camid`` of every record.

    It identifies the exact split (which images, with which labels) without reading image bytes;
    two runs on the same protocol split of the same files give the same checksum.
    """
    lines = []
    for split in (*SPLITS, "multi_query"):
        for record in getattr(dataset, split):
            path = Path(record.path)
            rel = path.relative_to(dataset.root) if path.is_relative_to(dataset.root) else path
            lines.append(f"{split}\t{rel.as_posix()}\t{record.pid}\t{record.camid}")
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


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
    equal weights likely, not certain. The global random state is left as it was.
    """
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
