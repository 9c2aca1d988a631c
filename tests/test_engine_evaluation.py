"""What the evaluation feeds the ranking: L2-normalised embeddings, unless the model's metric is
defined on its raw outputs (LOMO + XQDA)."""

from __future__ import annotations

import torch
from torch import nn

from reid_lib.data.synthetic import PRESETS, generate_synthetic
from reid_lib.engine import load_config
from reid_lib.engine.evaluation import embed_records
from reid_lib.engine.experiment import load_dataset


class Constant(nn.Module):
    """Every image -> eight threes (L2 norm ``3 * sqrt(8)``)."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.full((len(images), 8), 3.0)


def test_embeddings_are_unit_length_unless_the_model_says_otherwise(tmp_path):
    root = tmp_path / "synthetic"
    generate_synthetic(root, PRESETS["tiny"], preset="tiny", seed=0)
    cfg = load_config("smoke", [f"data.root={root}", "data.num_workers=0", "run.progress=false"])
    records = load_dataset(cfg).query[:4]
    cpu = torch.device("cpu")
    normalised, pids, _ = embed_records(Constant(), records, cfg, cpu)
    assert torch.allclose(normalised.norm(dim=1), torch.ones(4))
    assert list(pids) == [r.pid for r in records]
    raw_model = Constant()
    raw_model.l2_normalise = False
    raw, _, _ = embed_records(raw_model, records, cfg, cpu)
    assert torch.allclose(raw.norm(dim=1), torch.full((4,), 3 * 8**0.5))
