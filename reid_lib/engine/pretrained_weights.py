"""Pretrained backbone files: their checksum check, and what a results file records of them.

An exported backbone (``reid pretrain``, :mod:`reid_lib.engine.pretraining`) is a torchvision-format
state dict ``x.pt`` with a sidecar ``x.json`` that records its SHA-256 and provenance.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

#: The command that makes the checkpoint a preset starts from, named by the error when it lacks.
PRETRAIN_COMMAND = "reid pretrain"
#: The backbone the repository commits, with its sidecar, and the ``cpu`` preset starts from
#: (relative to the root of a clone, where the commands run).
COMMITTED_BACKBONE = "weights/peta-resnet18.pt"


def sidecar_path(weights: str | Path) -> Path:
    """The provenance file beside an exported backbone (``x.pt -> x.json``)."""
    return Path(weights).with_suffix(".json")


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_pretrained(pretrained: str | None) -> None:
    """Check a ``model.pretrained`` path before any data or model is touched.

    ``None`` and ``"imagenet"`` pass. A path must exist; when it has a sidecar, the file's
    SHA-256 must be the one recorded there.

    Raises:
        FileNotFoundError: no file (the message names the command that makes it).
        ValueError: the file's checksum differs from its sidecar's.
    """
    if pretrained in (None, "imagenet"):
        return
    path = Path(pretrained)
    if not path.is_file():
        where = (
            f"the repository commits it: run from the root of a clone (here: {Path.cwd()}), or "
            if Path(pretrained) == Path(COMMITTED_BACKBONE)
            else ""
        )
        raise FileNotFoundError(
            f"model.pretrained={pretrained!r}: no such file; {where}make a pretrained backbone "
            f"with '{PRETRAIN_COMMAND}' (20 to 80 minutes on 2 cores), or set "
            "model.pretrained=null to start from a random initialisation"
        )
    sidecar = sidecar_path(path)
    if sidecar.is_file():
        recorded = _recorded_sha256(sidecar)
        actual = sha256_file(path)
        if actual != recorded:
            raise ValueError(
                f"model.pretrained={pretrained!r}: its SHA-256 is {actual}, but {sidecar} records "
                f"{recorded}; the file changed after it was exported (run '{PRETRAIN_COMMAND}' "
                "again)"
            )


def pretraining_label(pretrained: str | None) -> str | None:
    """What a results file records of ``model.pretrained``: ``"<name> sha256:<12 hex>"`` for a
    weights file (the checksum its sidecar records, which :func:`check_pretrained` compared with
    the file; else the file's own), the value itself for ``None`` (random init) and
    ``"imagenet"``."""
    if pretrained in (None, "imagenet"):
        return pretrained
    sidecar = sidecar_path(pretrained)
    digest = _recorded_sha256(sidecar) if sidecar.is_file() else sha256_file(pretrained)
    return f"{Path(pretrained).stem} sha256:{digest[:12]}"


def _recorded_sha256(sidecar: Path) -> str:
    """The ``sha256`` a backbone's sidecar records, with an error naming the sidecar."""
    try:
        return str(json.loads(sidecar.read_text())["sha256"])
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(
            f"{sidecar}: not a backbone record (expected JSON with a 'sha256' entry: {err}); "
            "delete it and its weights, and export them again"
        ) from None
