"""Reading a file written by ``torch.save`` safely, with errors that name the file.

``torch.load(..., weights_only=True)`` refuses objects other than tensors and plain values, which
keeps a malicious file from running code, but its errors name no file and read alike for a
truncated file, a text file and an attack. :func:`load_tensors` tells the three apart.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch


def load_tensors(path: str | Path, what: str) -> Any:
    """``torch.load(path, map_location="cpu", weights_only=True)``.

    ``what`` opens each error message, e.g. ``"checkpoint runs/x/last.pt"``.

    Raises:
        ValueError: the file is not a whole file of ``torch.save``'s format (truncated, or
            another kind of file), or it holds objects other than tensors and plain values.
    """
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{what} cannot be read: not a whole file written by torch.save (truncated, or "
            "another kind of file)"
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise ValueError(
            f"{what} was refused: it holds objects other than tensors and plain values, and "
            f"loading it could run code ({str(err).splitlines()[0]})"
        ) from None
    except (RuntimeError, EOFError) as err:
        raise ValueError(
            f"{what} cannot be read: a damaged file of torch.save ({str(err).splitlines()[0]})"
        ) from None
