"""Feature extraction: run a model in eval mode over a loader and collect embeddings and ids.

The loader yields dict batches ``{"images": [N, 3, H, W], "pids": [N], "camids": [N], "paths"}``;
the model in eval mode returns ``[N, D]`` embeddings.

What we chose (the paper says only that the test embedding is L2-normalised): with ``flip=True``
the embeddings of the image and of its horizontal mirror are averaged, then L2-normalised again
(``normalize=True``). Features are gathered on the CPU in float32, so large sets do not fill the
GPU.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

BATCH_KEYS = ("images", "pids", "camids")


def extract_features(
    model: nn.Module,
    loader: Iterable[Mapping[str, Any]],
    *,
    flip: bool = True,
    device: str | torch.device | None = None,
    normalize: bool = True,
    progress: bool = True,
    desc: str = "extracting features",
) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Embeddings, pids and camids of every image the loader yields, in loader order.

    Args:
        model: returns ``[N, D]`` embeddings in eval mode. It is moved to ``device`` and put in
            eval mode for the call; its train/eval mode is restored afterwards.
        loader: iterable of dict batches (see the module docstring).
        flip: average with the embedding of the horizontally flipped image.
        device: where to run the model; default: where its parameters are (CPU if it has none).
        normalize: L2-normalise the final embeddings.
        progress: show a tqdm progress bar.
        desc: the progress bar's label.

    Returns:
        ``(feats [N, D] float32 CPU tensor, pids [N] int64, camids [N] int64)``.
    """
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    device = torch.device(device)
    model.to(device)
    was_training = model.training
    model.eval()
    feats, pids, camids = [], [], []
    try:
        with torch.inference_mode():
            for index, batch in enumerate(tqdm(loader, desc=desc, disable=not progress)):
                missing = [key for key in BATCH_KEYS if key not in batch]
                if missing:
                    raise KeyError(f"loader batch {index} lacks {missing}; expected {BATCH_KEYS}")
                images = batch["images"].to(device)
                embedding = _embed(model, images, index)
                if flip:
                    embedding = (embedding + _embed(model, images.flip(dims=[3]), index)) / 2
                if normalize:
                    embedding = F.normalize(embedding, dim=1)
                feats.append(embedding.float().cpu())
                pids.append(np.asarray(batch["pids"], dtype=np.int64).reshape(-1))
                camids.append(np.asarray(batch["camids"], dtype=np.int64).reshape(-1))
    finally:
        model.train(was_training)
    if not feats:
        raise ValueError("loader yielded no batches: nothing to extract")
    return torch.cat(feats), np.concatenate(pids), np.concatenate(camids)


def _embed(model: nn.Module, images: torch.Tensor, index: int) -> torch.Tensor:
    """The model's ``[N, D]`` output, checked."""
    output = model(images)
    if not isinstance(output, torch.Tensor) or output.ndim != 2 or len(output) != len(images):
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
        raise ValueError(
            f"model must return [N, D] embeddings in eval mode; got {shape} for batch {index} "
            f"of {len(images)} images"
        )
    return output
