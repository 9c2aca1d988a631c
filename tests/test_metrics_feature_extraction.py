"""extract_features(): with a tiny stand-in model (the real one lives in reid_lib.models)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset


class TinyEmbedder(nn.Module):
    """[N, 3, H, W] -> [N, 4]; its output changes under a horizontal flip."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.linear = nn.Linear(3 * 4 * 2, 4)
        self.calls_with_grad = 0

    def forward(self, images):
        self.calls_with_grad += int(torch.is_grad_enabled())
        return self.linear(images.flatten(1))


class TinyDataset(Dataset):
    def __init__(self, n: int = 7) -> None:
        self.images = torch.randn(n, 3, 4, 2, generator=torch.Generator().manual_seed(1))

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return {"images": self.images[i], "pids": i % 3, "camids": i % 2, "paths": f"img{i}.jpg"}


@pytest.fixture
def loader():
    return DataLoader(TinyDataset(), batch_size=3)


def test_features_ids_and_flip_average(loader):
    from reid_lib.metrics import extract_features

    model = TinyEmbedder()
    feats, pids, camids = extract_features(model, loader, progress=False)
    images = loader.dataset.images
    with torch.no_grad():
        expected = F.normalize((model(images) + model(images.flip(dims=[3]))) / 2, dim=1)
    assert feats.shape == (7, 4) and feats.dtype == torch.float32 and not feats.requires_grad
    torch.testing.assert_close(feats, expected)
    np.testing.assert_array_equal(pids, np.arange(7) % 3)
    np.testing.assert_array_equal(camids, np.arange(7) % 2)
    assert pids.dtype == np.int64


def test_no_flip_no_normalisation(loader):
    from reid_lib.metrics import extract_features

    model = TinyEmbedder()
    feats, _, _ = extract_features(model, loader, flip=False, normalize=False, progress=False)
    with torch.no_grad():
        torch.testing.assert_close(feats, model(loader.dataset.images))


def test_no_autograd_eval_mode_restored_and_progress_bar(loader, capsys):
    from reid_lib.metrics import extract_features

    model = TinyEmbedder()
    model.train()
    seen_modes = []
    model.register_forward_pre_hook(lambda module, _: seen_modes.append(module.training))
    extract_features(model, loader, device="cpu", desc="gallery")
    assert model.calls_with_grad == 0
    assert seen_modes and not any(seen_modes)
    assert model.training
    assert "gallery" in capsys.readouterr().err


def test_bad_batches_and_models(loader):
    from reid_lib.metrics import extract_features

    with pytest.raises(KeyError, match=r"loader batch 0 lacks \['camids'\]"):
        extract_features(TinyEmbedder(), [{"images": torch.zeros(2, 3, 4, 2), "pids": [1, 2]}])
    with pytest.raises(ValueError, match="loader yielded no batches"):
        extract_features(TinyEmbedder(), [], progress=False)

    class MapModel(nn.Module):
        def forward(self, images):
            return images

    with pytest.raises(ValueError, match=r"model must return \[N, D\] embeddings in eval mode"):
        extract_features(MapModel(), loader, progress=False)


def test_with_the_project_model():
    """The real model's eval-mode contract: [N, embedding_dim] features, L2-normalised."""
    from reid_lib.metrics import extract_features
    from reid_lib.models import build_model

    torch.manual_seed(0)
    model = build_model(3, backbone="resnet18", num_parts=2)
    images = torch.randn(4, 3, 64, 32)
    batches = [
        {"images": images[i : i + 2], "pids": torch.tensor([1, 2]), "camids": torch.tensor([0, 1])}
        for i in (0, 2)
    ]
    feats, pids, _ = extract_features(model, batches, progress=False)
    assert feats.shape == (4, model.embedding_dim)
    torch.testing.assert_close(feats.norm(dim=1), torch.ones(4))
    np.testing.assert_array_equal(pids, [1, 2, 1, 2])
