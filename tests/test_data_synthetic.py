import dataclasses
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from reid_lib.data import build_dataset
from reid_lib.data.make_synthetic import main as make_synthetic_main
from reid_lib.data.make_synthetic import parse_knob
from reid_lib.data.synthetic import (
    MANIFEST,
    PRESETS,
    SPLIT_DIRS,
    SyntheticConfig,
    build_world,
    dataset_digest,
    generate_synthetic,
    render_knob_grid,
    verify_synthetic,
)
from reid_lib.data.synthetic_people import KNOBS, Camera, Knobs, render
from reid_lib.data.verify import verify_dataset

TINY = PRESETS["tiny"]
# Market-1501: <pid:04d or -1>_c<cam>s<seq>_<frame:06d>_<box:02d>.jpg
MARKET_NAME = re.compile(r"^(-1|\d{4})_c(\d)s(\d)_(\d{6})_(\d{2})\.jpg$")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The tiny preset generated twice with seed 0 and once with seed 1."""
    roots = {}
    for key, seed in (("a", 0), ("b", 0), ("other", 1)):
        root = tmp_path_factory.mktemp(f"synthetic_{key}")
        generate_synthetic(root, TINY, seed=seed, preset="tiny")
        roots[key] = root
    return roots


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for folder in SPLIT_DIRS.values()
        for p in (root / folder).iterdir()
    }


def _parsed(root: Path) -> dict[str, list[tuple[int, int, str]]]:
    """split -> [(pid, cam, name)] parsed with the Market-1501 rule; fails on any other name."""
    out = {}
    for split, folder in SPLIT_DIRS.items():
        rows = []
        for p in sorted((root / folder).iterdir()):
            m = MARKET_NAME.match(p.name)
            assert m, f"{p.name} breaks the Market-1501 naming rule"
            rows.append((int(m.group(1)), int(m.group(2)), p.name))
        out[split] = rows
    return out


def test_same_seed_gives_byte_identical_files(generated):
    a, b = _files(generated["a"]), _files(generated["b"])
    assert a.keys() == b.keys() and len(a) > 50
    assert all(a[k] == b[k] for k in a)
    manifest_a = json.loads((generated["a"] / "manifest.json").read_text())
    manifest_b = json.loads((generated["b"] / "manifest.json").read_text())
    assert manifest_a["sha256"] == manifest_b["sha256"]


def test_other_seed_gives_different_files(generated):
    a, other = _files(generated["a"]), _files(generated["other"])
    shared = a.keys() & other.keys()
    assert a.keys() != other.keys() or any(a[k] != other[k] for k in shared)
    assert dataset_digest(generated["a"]) != dataset_digest(generated["other"])


def test_names_follow_market_rule_and_counts_match_manifest(generated):
    root = generated["a"]
    parsed = _parsed(root)
    manifest = json.loads((root / "manifest.json").read_text())
    for split, rows in parsed.items():
        counts = manifest["counts"][split]
        assert len(rows) == counts["images"]
        assert len({pid for pid, _, _ in rows if pid > 0}) == counts["ids"]
        assert all(1 <= cam <= TINY.num_cameras for _, cam, _ in rows)
    train_ids = {pid for pid, _, _ in parsed["train"]}
    test_ids = {pid for pid, _, _ in parsed["gallery"] if pid > 0}
    assert len(train_ids) == TINY.num_ids // 2
    assert len(test_ids) == TINY.num_ids - TINY.num_ids // 2
    assert not train_ids & test_ids
    assert train_ids | test_ids == set(range(1, TINY.num_ids + 1))
    gallery_pids = [pid for pid, _, _ in parsed["gallery"]]
    assert gallery_pids.count(0) == TINY.num_distractors
    assert gallery_pids.count(-1) == TINY.num_junk
    assert all(pid > 0 for split in ("train", "query") for pid, _, _ in parsed[split])
    assert manifest["num_files"] == sum(len(rows) for rows in parsed.values())
    assert manifest["config"]["num_ids"] == TINY.num_ids


def test_every_query_has_a_gallery_match_in_another_camera(generated):
    parsed = _parsed(generated["a"])
    gallery_cams = defaultdict(set)
    for pid, cam, _ in parsed["gallery"]:
        gallery_cams[pid].add(cam)
    for pid, cam, _ in parsed["query"]:
        assert gallery_cams[pid] - {cam}, f"query of pid {pid} in camera {cam} has no match"
    per_id = defaultdict(list)
    for pid, cam, _ in parsed["query"]:
        per_id[pid].append(cam)
    assert all(len(cams) == len(set(cams)) <= TINY.queries_per_id for cams in per_id.values())
    assert {pid for pid, _, _ in parsed["query"]} == {p for p in gallery_cams if p > 0}


def test_multi_query_images_share_id_and_camera_with_a_query(generated):
    parsed = _parsed(generated["a"])
    queries = Counter((pid, cam) for pid, cam, _ in parsed["query"])
    extra = Counter((pid, cam) for pid, cam, _ in parsed["multi_query"])
    assert extra == Counter({key: n * TINY.multi_query_images for key, n in queries.items()})
    names = {split: {name for _, _, name in rows} for split, rows in parsed.items()}
    assert not names["multi_query"] & (names["query"] | names["gallery"])


@pytest.mark.parametrize("name", ["synthetic", "market1501"])
def test_output_loads_through_the_market_loader_with_the_manifest_counts(generated, name):
    root = generated["a"]
    counts = json.loads((root / "manifest.json").read_text())["counts"]
    dataset = build_dataset(name, root, multi_query=True)
    assert dataset.num_train_pids == counts["train"]["ids"] == TINY.num_ids // 2
    assert len(dataset.train) == counts["train"]["images"]
    assert len(dataset.query) == counts["query"]["images"]
    assert len(dataset.gallery) == counts["gallery"]["images"] - TINY.num_junk
    assert len(dataset.multi_query) == counts["multi_query"]["images"]
    assert dataset.num_junk_dropped == TINY.num_junk
    assert sum(r.pid == 0 for r in dataset.gallery) == TINY.num_distractors
    assert dataset.num_cameras == TINY.num_cameras
    assert {r.pid for r in dataset.query} == {r.pid for r in dataset.gallery} - {0}
    assert verify_dataset(root, "synthetic").ok


def test_manifest_digest_detects_a_changed_file(tmp_path):
    generate_synthetic(tmp_path, dataclasses.replace(TINY, num_ids=4), seed=3)
    assert verify_synthetic(tmp_path)["seed"] == 3
    victim = next((tmp_path / "query").iterdir())
    victim.write_bytes(victim.read_bytes() + b"\0")
    with pytest.raises(
        ValueError,
        match=r"does not match its manifest: expected sha256 [0-9a-f]{64}, found [0-9a-f]{64}",
    ):
        verify_synthetic(tmp_path)


def test_existing_output_needs_overwrite(tmp_path):
    config = dataclasses.replace(TINY, num_ids=4)
    generate_synthetic(tmp_path, config)
    with pytest.raises(FileExistsError, match="bounding_box_train already exists"):
        generate_synthetic(tmp_path, config)
    generate_synthetic(tmp_path, config, overwrite=True)


def test_families_share_colour_schemes_but_not_local_cues(generated):
    config = PRESETS["small"]
    identities = build_world(config, seed=0).identities
    assert len(identities) == config.num_ids + config.num_distractors
    schemes = set()
    for start in range(0, len(identities), config.family_size):
        family = identities[start : start + config.family_size]
        assert len(family) == min(config.family_size, len(identities) - start)
        assert len({(m.upper, m.lower) for m in family}) == 1
        assert len({m.local_cues() for m in family}) == len(family)
        schemes.add((family[0].upper, family[0].lower))
    assert len(schemes) > 20
    table = json.loads((generated["a"] / "identities.json").read_text())
    assert sorted(int(pid) for pid in table) == list(range(1, TINY.num_ids + 1))
    by_family = defaultdict(set)
    for attributes in table.values():
        by_family[attributes["family"]].add(
            (tuple(attributes["upper"]), tuple(attributes["lower"]))
        )
    assert all(len(schemes) == 1 for schemes in by_family.values())


def test_all_knobs_off_renders_an_identity_the_same_in_every_image():
    world = build_world(dataclasses.replace(TINY, knobs=Knobs.off()), seed=0)
    pid = world.pids[0]
    images = [world.render(i) for i, s in enumerate(world.images) if s.pid == pid]
    assert len({s.cam for s in world.images if s.pid == pid}) >= 2
    assert all(np.array_equal(images[0], img) for img in images[1:])


@pytest.mark.parametrize("knob", ["posture", "clutter", "occlusion", "misalignment"])
def test_each_image_knob_alone_varies_images_of_one_identity(knob):
    grid = render_knob_grid(knob, (0.0, 1.0), num_images=4, config=TINY)
    assert grid.shape == (2, 4, TINY.height, TINY.width, 3)
    assert all(np.array_equal(grid[0, 0], img) for img in grid[0])
    assert any(not np.array_equal(grid[1, 0], img) for img in grid[1])


def test_lighting_knob_spreads_brightness_across_cameras():
    grid = render_knob_grid("lighting", (0.0, 1.0), num_images=TINY.num_cameras, config=TINY)
    brightness = grid.astype(float).mean(axis=(2, 3, 4))  # [knob value, camera]
    assert brightness[0].std() == 0.0
    assert brightness[1].std() > 5.0


def _high_frequency_energy(image: np.ndarray) -> float:
    grey = image.astype(float).mean(axis=-1)
    laplacian = (
        4 * grey[1:-1, 1:-1] - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
    )
    return float((laplacian**2).mean())


def test_resolution_knob_removes_high_frequencies_in_every_camera():
    grid = render_knob_grid("resolution", (0.0, 1.0), num_images=TINY.num_cameras, config=TINY)
    for sharp, blurred in zip(grid[0], grid[1], strict=True):
        assert _high_frequency_energy(blurred) < 0.7 * _high_frequency_energy(sharp)


def test_logo_is_seen_from_the_front_only():
    ident = dataclasses.replace(
        build_world(TINY).identities[0],
        upper_pattern="logo",
        logo_shape="square",
        upper_accent=(0, 255, 0),
        bag="none",
    )
    back_camera = Camera(0.0, (0.0, 0.0, 0.0), "back", 1.0, (128, 128, 128))
    height, width = TINY.height, TINY.width
    y = round(height * (0.04 + 0.28 * 0.92 * ident.stature))

    def logo_visible(knobs: Knobs, seed: int) -> bool:
        image = render(ident, back_camera, knobs, np.random.default_rng(seed), (height, width))
        chest = image[y - 1 : y + 2, width // 2 - 1 : width // 2 + 2].reshape(-1, 3).mean(0)
        return bool(np.abs(chest - (0, 255, 0)).max() < 30)

    assert all(logo_visible(Knobs.off(), s) for s in range(10))
    assert sum(logo_visible(Knobs.off(viewpoint=1.0), s) for s in range(10)) <= 2


def test_shoulder_bag_is_seen_from_its_own_side_only():
    ident = dataclasses.replace(
        build_world(TINY).identities[0], bag="shoulder", bag_colour=(0, 255, 0), bag_side=1
    )
    knobs = Knobs.off(viewpoint=1.0)

    def bag_visible(view: str, seed: int) -> bool:
        camera = Camera(0.0, (0.0, 0.0, 0.0), view, 1.0, (128, 128, 128))
        image = render(ident, camera, knobs, np.random.default_rng(seed)).astype(int)
        return bool(((image[..., 1] > 200) & (image[..., 0] < 60)).sum() > 50)

    # bag_side = 1 is the person's left: towards the camera when the person faces right.
    assert sum(bag_visible("right", s) for s in range(20)) >= 16
    assert sum(bag_visible("left", s) for s in range(20)) <= 6


def test_bad_knob_values_and_names_are_rejected():
    with pytest.raises(ValueError, match=r"knob 'lighting' must lie in \[0, 1\], got 1.5"):
        Knobs(lighting=1.5)
    with pytest.raises(ValueError, match="unknown knob"):
        TINY.with_knobs(brightness=0.2)
    with pytest.raises(ValueError, match="unknown knob 'blur'"):
        render_knob_grid("blur")
    with pytest.raises(ValueError, match="num_cameras must lie in"):
        SyntheticConfig(num_cameras=12)
    assert parse_knob("viewpoint=0.25") == ("viewpoint", 0.25)
    for bad in ("viewpoint", "fog=0.1", "lighting=abc", "lighting=2"):
        with pytest.raises(Exception, match="--knob"):
            parse_knob(bad)


def test_cli_writes_the_preset_with_knobs(tmp_path, capsys):
    args = ["--out", str(tmp_path), "--preset", "tiny", "--seed", "2", "--knob", "lighting=0.9"]
    assert make_synthetic_main(args) == 0
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["seed"] == 2 and manifest["preset"] == "tiny"
    assert manifest["config"]["knobs"]["lighting"] == 0.9
    assert manifest["config"]["knobs"]["posture"] == TINY.knobs.posture
    assert manifest["sha256"] in capsys.readouterr().out
    assert set(KNOBS) == set(manifest["config"]["knobs"])


def test_cli_bad_input_is_one_line(tmp_path, capsys):
    (tmp_path / "a-file").write_text("")
    assert make_synthetic_main(["--out", str(tmp_path / "a-file"), "--preset", "tiny"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("reid synth: error: ")
    assert "a-file" in err
