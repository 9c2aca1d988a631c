"""Input checks shared by the metrics modules: convert to numpy and fail with named arguments."""

from __future__ import annotations

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor


def to_numpy(value: ArrayLike, name: str) -> np.ndarray:
    """``value`` as a numpy array (a torch tensor is detached and moved to the CPU)."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be a numpy array or a torch tensor, got {type(value)}"
        ) from err


def check_matrix(matrix: np.ndarray, name: str) -> None:
    """Raise unless ``matrix`` is a 2-D, non-empty, finite float array (rows: queries)."""
    if matrix.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {tuple(matrix.shape)}")
    if matrix.shape[0] == 0:
        raise ValueError(
            f"{name} has no rows (shape {tuple(matrix.shape)}): the query set is empty"
        )
    if matrix.shape[1] == 0:
        raise ValueError(
            f"{name} has no columns (shape {tuple(matrix.shape)}): the gallery is empty"
        )
    if not np.issubdtype(matrix.dtype, np.floating):
        raise TypeError(f"{name} must hold floats, got dtype {matrix.dtype}")
    if not np.isfinite(matrix.sum()) and not np.isfinite(matrix).all():
        bad = np.argwhere(~np.isfinite(matrix))[0]
        raise ValueError(
            f"{name} contains NaN or inf (first at row {bad[0]}, column {bad[1]}); "
            "distances must be finite"
        )


def check_ids(ids: ArrayLike, name: str, length: int, length_of: str) -> np.ndarray:
    """``ids`` as a 1-D int64 array of ``length`` items (the size of ``length_of``)."""
    array = to_numpy(ids, name)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {tuple(array.shape)}")
    if array.shape[0] != length:
        raise ValueError(f"{name} has {array.shape[0]} items but {length_of} has {length}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, got dtype {array.dtype}")
    return array.astype(np.int64, copy=False)
