import dataclasses
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from reid_lib.data import Record, ReIDDataset, build_dataset
from reid_lib.data.loaders import (
    ImageReadError,
    build_test_loader,
    build_test_loaders,
    build_train_loader,
    read_image,
)
from reid_lib.data.sampler import PKSampler
from reid_lib.data.synthetic import PRESETS, generate_synthetic
from reid_lib.data.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    build_test_transforms,
    build_train_transforms,
)

# pid -> number of images: ids 2 and 5 have fewer than K = 4 images.
IMAGES_PER_ID = {0: 9, 1: 5, 2: 1, 3: 4, 4: 8, 5: 2, 6: 7, 7: 4}
PIDS = [pid for pid, n in IMAGES_PER_ID.items() for _ in range(n)]


def _batches(sampler: PKSampler) -> list[list[int]]:
    indices = list(sampler)
    assert len(indices) == len(sampler) and len(indices) % sampler.batch_size == 0
    size = sampler.batch_size
    return [indices[i : i + size] for i in range(0, len(indices), size)]


def test_every_batch_holds_p_ids_with_k_images_each():
    sampler = PKSampler(PIDS, num_ids=3, num_instances=4, seed=1)
    batches = _batches(sampler)
    assert len(batches) >= 2
    for batch in batches:
        counts = Counter(PIDS[i] for i in batch)
        assert sorted(counts.values()) == [4, 4, 4]
        groups = [batch[i : i + 4] for i in range(0, 12, 4)]
        assert all(len({PIDS[i] for i in g}) == 1 for g in groups)  # K images of one id in a row


def test_ids_with_fewer_than_k_images_are_sampled_with_replacement():
    seen_small = set()
    for epoch in range(20):
        sampler = PKSampler(PIDS, num_ids=3, num_instances=4, seed=0)
        sampler.set_epoch(epoch)
        for batch in _batches(sampler):
            for g in range(0, 12, 4):
                group = batch[g : g + 4]
                pid = PIDS[group[0]]
                if IMAGES_PER_ID[pid] < 4:
                    seen_small.add(pid)
                    assert set(group) <= {i for i, p in enumerate(PIDS) if p == pid}
                else:
                    assert len(set(group)) == 4  # without replacement
    assert seen_small == {2, 5}


def test_batches_depend_only_on_seed_and_epoch():
    a, b = PKSampler(PIDS, 2, 4, seed=5), PKSampler(PIDS, 2, 4, seed=5)
    a.set_epoch(3)
    b.set_epoch(3)
    assert list(a) == list(b)
    b.set_epoch(4)
    assert list(a) != list(b)
    assert list(PKSampler(PIDS, 2, 4, seed=6)) != list(PKSampler(PIDS, 2, 4, seed=5))


def test_ranks_get_disjoint_ids_of_the_same_global_batch():
    whole = PKSampler(PIDS, num_ids=4, num_instances=2, seed=7)
    ranks = [PKSampler(PIDS, 4, 2, seed=7, num_replicas=2, rank=r) for r in range(2)]
    for s in [whole, *ranks]:
        s.set_epoch(1)
    assert ranks[0].batch_size == ranks[1].batch_size == 4
    assert len(ranks[0]) == len(ranks[1]) == len(whole) // 2
    for full, r0, r1 in zip(_batches(whole), _batches(ranks[0]), _batches(ranks[1]), strict=True):
        assert not {PIDS[i] for i in r0} & {PIDS[i] for i in r1}
        assert Counter(r0) + Counter(r1) == Counter(full)


def test_resume_continues_with_the_remaining_batches():
    first = PKSampler(PIDS, 2, 4, seed=3)
    first.set_epoch(2)
    expected = list(first)[first.batch_size :]
    resumed = PKSampler(PIDS, 2, 4, seed=0)
    resumed.load_state_dict({"seed": 3, "epoch": 2, "start_batch": 1})
    assert resumed.state_dict() == {"seed": 3, "epoch": 2, "start_batch": 1}
    assert list(resumed) == expected and len(resumed) == len(expected)


def test_sampler_rejects_bad_parameters():
    with pytest.raises(ValueError, match="exceeds the 8 identities"):
        PKSampler(PIDS, num_ids=9)
    with pytest.raises(ValueError, match=r"multiple of num_replicas \(3\)"):
        PKSampler(PIDS, num_ids=4, num_replicas=3)
    with pytest.raises(ValueError, match="rank 2 of 2"):
        PKSampler(PIDS, num_ids=4, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="must be >= 1"):
        PKSampler(PIDS, num_ids=2, num_instances=0)


def test_the_batches_are_those_the_committed_runs_trained_on():
    """Pinned (from the sampler before ``sources`` existed): the committed results depend on it."""
    assert list(PKSampler(PIDS, 2, 2, seed=5))[:16] == [
        *(18, 17, 27, 28, 15, 16, 5, 6),
        *(36, 38, 14, 14, 39, 37, 10, 12),
    ]


# Two sources: ids 0-3 from "a", 4-7 from "b".
SOURCES = ["a" if pid < 4 else "b" for pid in PIDS]


def test_with_sources_every_batch_holds_ids_of_one_source():
    counts = Counter()
    for epoch in range(10):
        sampler = PKSampler(PIDS, num_ids=2, num_instances=2, seed=3, sources=SOURCES)
        sampler.set_epoch(epoch)
        for batch in _batches(sampler):
            (source,) = {SOURCES[i] for i in batch}
            counts[source] += 1
            assert sorted(Counter(PIDS[i] for i in batch).values()) == [2, 2]
    assert counts["a"] > 0 and counts["b"] > 0, "both sources get batches"


def test_with_sources_each_source_uses_its_groups_until_fewer_than_p_ids_are_left():
    """Source "a" has ids with 9, 5, 1 and 4 images: groups of K = 4 give 2 + 1 + 1 + 1 = 5 (the
    id with one image is drawn with replacement), source "b" (8, 2, 7, 4) also 5. With P = 2, no
    id holding more than 2 groups, 3 groups left after one batch span two ids, so each source
    gives exactly 2 batches, whatever the seed."""
    for seed in range(20):
        sampler = PKSampler(PIDS, num_ids=2, num_instances=4, seed=seed, sources=SOURCES)
        per_source = Counter(SOURCES[batch[0]] for batch in _batches(sampler))
        assert per_source == {"a": 2, "b": 2}


def test_sources_must_match_the_items_and_give_each_id_one_source():
    with pytest.raises(ValueError, match=f"sources has 3 entries for {len(PIDS)} items"):
        PKSampler(PIDS, 2, sources=["a", "b", "c"])
    mixed = ["a"] * len(PIDS)
    mixed[-1] = "b"  # the last image of id 7
    with pytest.raises(ValueError, match="identity 7 comes from two sources, 'a' and 'b'"):
        PKSampler(PIDS, 2, sources=mixed)


def test_a_source_with_fewer_than_p_ids_gets_no_batch():
    few = ["a" if pid == 0 else "b" for pid in PIDS]  # "a" holds one id
    sampler = PKSampler(PIDS, num_ids=2, num_instances=4, seed=0, sources=few)
    assert {few[batch[0]] for batch in _batches(sampler)} == {"b"}


def _solid(colour: tuple[int, int, int], size=(40, 20)) -> Image.Image:
    return Image.new("RGB", (size[1], size[0]), colour)


def test_test_transforms_resize_and_normalise():
    mean_colour = tuple(round(m * 255) for m in IMAGENET_MEAN)
    out = build_test_transforms((32, 16))(_solid(mean_colour))
    assert out.shape == (3, 32, 16) and out.dtype == torch.float32
    assert out.abs().max() < 0.01
    white = build_test_transforms((32, 16))(_solid((255, 255, 255)))
    expected = [(1 - m) / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD, strict=True)]
    assert torch.allclose(white[:, 0, 0], torch.tensor(expected))


def test_train_flip_only_mirrors_the_test_output():
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 20, 3), np.uint8))
    flipped = build_train_transforms((32, 16), flip_p=1.0, pad=0, erasing_p=0.0)(image)
    assert torch.equal(flipped, build_test_transforms((32, 16))(image).flip(-1))


def test_train_pad_crop_and_erasing_change_the_image():
    torch.manual_seed(0)
    white = _solid((255, 255, 255))
    black = torch.tensor([-m / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD, strict=True)])
    padded = [build_train_transforms((32, 16), erasing_p=0.0)(white) for _ in range(10)]
    assert all(p.shape == (3, 32, 16) for p in padded)
    shows_padding = [torch.isclose(p, black[:, None, None]).all(0).any() for p in padded]
    assert any(shows_padding)
    plain = [build_train_transforms((32, 16), pad=0, erasing_p=0.0)(white) for _ in range(10)]
    assert not any((p < 0).any() for p in plain)
    erased = [build_train_transforms((32, 16), pad=0, erasing_p=1.0)(white) for _ in range(5)]
    assert all((e == 0).all(0).any() for e in erased)  # erased to 0 = the ImageNet mean


def test_transforms_reject_a_bad_size():
    with pytest.raises(ValueError, match=r"\(height, width\)"):
        build_train_transforms((256,))
    with pytest.raises(ValueError, match="positive ints"):
        build_test_transforms((256, 0))


def test_corrupt_truncated_and_missing_images_name_the_file(tmp_path):
    good = tmp_path / "0001_c1s1_000001_01.jpg"
    _solid((10, 200, 30)).save(good)
    truncated = tmp_path / "0002_c1s1_000002_01.jpg"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    garbage = tmp_path / "0003_c1s1_000003_01.jpg"
    garbage.write_bytes(b"this is not a jpeg")
    missing = tmp_path / "0004_c1s1_000004_01.jpg"
    assert read_image(good).size == (20, 40)
    for bad in (truncated, garbage, missing):
        with pytest.raises(ImageReadError, match=re.escape(str(bad))):
            read_image(bad)
    loader = build_test_loader(
        [Record(good, 1, 0), Record(truncated, 2, 0)], image_size=(32, 16), batch_size=2
    )
    with pytest.raises(ImageReadError, match=re.escape(truncated.name)):
        next(iter(loader))


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory) -> ReIDDataset:
    """The tiny synthetic preset read by the Market-1501 loader."""
    root = tmp_path_factory.mktemp("tiny")
    generate_synthetic(root, PRESETS["tiny"], seed=0)
    return build_dataset("synthetic", root)


def test_train_loader_yields_pk_batches_as_dicts(tiny_dataset):
    loader = build_train_loader(
        tiny_dataset.train, image_size=(64, 32), num_ids=4, num_instances=2, seed=0
    )
    loader.sampler.set_epoch(0)
    batch = next(iter(loader))
    assert set(batch) == {"images", "pids", "camids", "paths"}
    assert batch["images"].shape == (8, 3, 64, 32) and batch["images"].dtype == torch.float32
    assert batch["pids"].dtype == batch["camids"].dtype == torch.long
    assert sorted(Counter(batch["pids"].tolist()).values()) == [2, 2, 2, 2]
    assert batch["pids"].max() < tiny_dataset.num_train_pids  # relabelled
    by_path = {str(r.path): r for r in tiny_dataset.train}
    assert [by_path[p].pid for p in batch["paths"]] == batch["pids"].tolist()
    assert len(loader) == len(loader.sampler) // 8


def test_the_train_loader_draws_each_batch_from_one_source_when_asked(tiny_dataset):
    records = [
        dataclasses.replace(r, extra={**r.extra, "source": "x" if r.pid % 2 else "y"})
        for r in tiny_dataset.train
    ]
    loader = build_train_loader(
        records, image_size=(64, 32), num_ids=2, num_instances=2, one_source_per_batch=True
    )
    loader.sampler.set_epoch(0)
    for batch in loader:
        assert len({pid % 2 for pid in batch["pids"].tolist()}) == 1
    mixed = build_train_loader(records, image_size=(64, 32), num_ids=4, num_instances=2)
    assert mixed.sampler._source_of is None


def test_test_loaders_keep_order_and_original_pids(tiny_dataset):
    query, gallery = build_test_loaders(
        tiny_dataset, image_size=(64, 32), batch_size=16, num_workers=1
    )
    batches = list(gallery)
    assert [len(b["paths"]) for b in batches[:-1]] == [16] * (len(batches) - 1)
    paths = [p for b in batches for p in b["paths"]]
    assert paths == [str(r.path) for r in tiny_dataset.gallery]
    pids = torch.cat([b["pids"] for b in batches]).tolist()
    assert pids == [r.pid for r in tiny_dataset.gallery] and 0 in pids
    first = next(iter(query))
    assert first["images"].shape[1:] == (3, 64, 32)
    assert first["camids"].tolist() == [r.camid for r in tiny_dataset.query[:16]]


def test_dataset_items_read_with_pil(tiny_dataset):
    loader = build_test_loader(tiny_dataset.query[:1], image_size=(128, 64), batch_size=1)
    image = next(iter(loader))["images"][0]
    expected = build_test_transforms((128, 64))(Image.open(Path(tiny_dataset.query[0].path)))
    assert torch.equal(image, expected)
