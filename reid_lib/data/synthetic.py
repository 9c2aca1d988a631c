"""The synthetic ReID dataset: drawn pedestrians written in the Market-1501 layout and naming.

``generate_synthetic(out, PRESETS["small"], seed=0)`` writes::

    out/bounding_box_train/<pid:04d>_c<cam>s<seq>_<frame:06d>_<box:02d>.jpg
    out/bounding_box_test/...   (test ids, distractors ``0000_...`` and junk ``-1_...``)
    out/query/...
    out/gt_bbox/...             (more images of each query's id in its camera: multi-query)
    out/manifest.json           (config, seed, counts, SHA-256 over the image files)
    out/identities.json         (the attributes of every pid, for analysis in the book)

so the Market-1501 loader reads it. Identities come in families that share an upper and a lower
colour and differ in local cues (pattern, logo, shoes, bag, hair, build): global colour alone does
not separate them, local part features do. Camera and image nuisances are set by
:class:`~reid_lib.data.synthetic_people.Knobs`.

The paper uses no synthetic data; the dataset, its presets and its rules are ours. Query/gallery
rules follow Market-1501: one query per chosen camera of a test id, every query has a gallery
image of its id from another camera, and query images are not in the gallery. ``gt_bbox/`` holds,
for each query, further images of its id in the same camera and sequence, well aligned (Market's
hand-drawn boxes), which multi-query evaluation pools with the query.

Determinism: the same config and seed give byte-identical files with the same numpy and Pillow
versions (the manifest records both; JPEG encoders may differ across Pillow releases).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import PIL
from PIL import Image
from tqdm import tqdm

from reid_lib.data.synthetic_people import (
    KNOBS,
    Camera,
    Identity,
    Knobs,
    render,
    sample_cameras,
    sample_identities,
)
from reid_lib.json_files import read_json

GENERATOR_VERSION = 1
SPLIT_DIRS = {
    "train": "bounding_box_train",
    "gallery": "bounding_box_test",
    "query": "query",
    "multi_query": "gt_bbox",
}
MANIFEST = "manifest.json"
IDENTITIES = "identities.json"
JPEG_QUALITY = 90
# Streams of the seed: identities, cameras, layout, images.
_IDENTITY_STREAM, _CAMERA_STREAM, _LAYOUT_STREAM, _IMAGE_STREAM = range(4)


@dataclass(frozen=True)
class SyntheticConfig:
    """Size and nuisances of a synthetic dataset.

    Attributes:
        num_ids: identities with images; half (rounded down) train, the rest test.
        num_cameras: cameras (at most 9, the Market-1501 name has one digit).
        height, width: image size.
        cameras_per_id: (min, max) cameras an identity appears in (min >= 2).
        images_per_camera: (min, max) images of an identity in one camera.
        queries_per_id: most cameras of a test identity that give a query image.
        multi_query_images: ``gt_bbox`` images per query (same id, camera and sequence).
        num_distractors: gallery images with pid 0 (bad detections of people seen nowhere else).
        num_junk: gallery images with pid -1 (crops of background only).
        family_size: identities that share a coarse colour scheme.
        knobs: nuisance strengths.
    """

    num_ids: int = 300
    num_cameras: int = 6
    height: int = 128
    width: int = 64
    cameras_per_id: tuple[int, int] = (2, 6)
    images_per_camera: tuple[int, int] = (1, 4)
    queries_per_id: int = 2
    multi_query_images: int = 2
    num_distractors: int = 200
    num_junk: int = 60
    family_size: int = 3
    knobs: Knobs = field(default_factory=Knobs)

    def __post_init__(self) -> None:
        if self.num_ids < 2:
            raise ValueError(f"num_ids must be >= 2 (train and test ids), got {self.num_ids}")
        if not 2 <= self.num_cameras <= 9:
            raise ValueError(f"num_cameras must lie in [2, 9], got {self.num_cameras}")
        lo, hi = self.cameras_per_id
        if not 2 <= lo <= hi:
            raise ValueError(
                f"cameras_per_id must be (min, max) with 2 <= min <= max, got {lo, hi}"
            )
        lo, hi = self.images_per_camera
        if not 1 <= lo <= hi:
            raise ValueError(f"images_per_camera must be (min, max), 1 <= min <= max; got {lo, hi}")
        if self.queries_per_id < 1:
            raise ValueError(f"queries_per_id must be >= 1, got {self.queries_per_id}")
        if self.multi_query_images < 0:
            raise ValueError(f"multi_query_images must be >= 0, got {self.multi_query_images}")

    def with_knobs(self, **knobs: float) -> SyntheticConfig:
        """A copy with some knobs changed, e.g. ``config.with_knobs(lighting=0.9)``."""
        unknown = set(knobs) - set(KNOBS)
        if unknown:
            raise ValueError(f"unknown knob(s) {sorted(unknown)}; expected some of {list(KNOBS)}")
        return dataclasses.replace(self, knobs=dataclasses.replace(self.knobs, **knobs))


#: ``tiny`` is for tests; ``small`` is the default (CPU training in minutes); ``medium`` is larger.
PRESETS: dict[str, SyntheticConfig] = {
    "tiny": SyntheticConfig(
        num_ids=16,
        num_cameras=4,
        cameras_per_id=(2, 4),
        images_per_camera=(1, 3),
        num_distractors=10,
        num_junk=4,
    ),
    "small": SyntheticConfig(),
    "medium": SyntheticConfig(num_ids=1000, num_distractors=1000, num_junk=300),
}


@dataclass(frozen=True)
class ImageSpec:
    """One image to render and its Market-1501 name fields."""

    split: str
    pid: int
    cam: int
    seq: int
    frame: int
    box: int
    identity: int | None
    partial: bool = False
    hand_drawn: bool = False

    @property
    def filename(self) -> str:
        """``<pid:04d>_c<cam>s<seq>_<frame:06d>_<box:02d>.jpg`` (1-based cam; junk: ``-1``)."""
        pid = "-1" if self.pid == -1 else f"{self.pid:04d}"
        return f"{pid}_c{self.cam + 1}s{self.seq}_{self.frame:06d}_{self.box:02d}.jpg"


@dataclass(frozen=True)
class SyntheticWorld:
    """Identities, cameras and the image plan of one config and seed (nothing rendered yet).

    ``identities[i]`` is the identity of ``pids[i]`` for ``i < config.num_ids``; distractor
    identities follow.
    """

    config: SyntheticConfig
    seed: int
    identities: list[Identity]
    pids: list[int]
    cameras: list[Camera]
    images: list[ImageSpec]

    def render(self, index: int) -> np.ndarray:
        """Render ``images[index]``: uint8 [height, width, 3]."""
        spec = self.images[index]
        ident = None if spec.identity is None else self.identities[spec.identity]
        rng = np.random.default_rng([self.seed, _IMAGE_STREAM, index])
        size = (self.config.height, self.config.width)
        knobs = self.config.knobs
        if spec.partial:  # distractors are bad detections: always misaligned
            knobs = dataclasses.replace(knobs, misalignment=1.0)
        if spec.hand_drawn:  # gt_bbox: boxes drawn by hand are aligned
            knobs = dataclasses.replace(knobs, misalignment=0.0)
        return render(ident, self.cameras[spec.cam], knobs, rng, size, partial=spec.partial)


def _every_query_matched(per_cam: Sequence[Sequence[ImageSpec]], query_cams: set[int]) -> bool:
    """Whether each query (first image of a camera in ``query_cams``) keeps a gallery image of its
    id in another camera once all queries are taken out of the gallery."""
    left = [len(group) - (k in query_cams) for k, group in enumerate(per_cam)]
    return all(sum(left) - left[q] >= 1 for q in query_cams)


def build_world(config: SyntheticConfig, seed: int = 0) -> SyntheticWorld:
    """Draw identities and cameras and plan every image (name, split, identity, camera)."""
    identities = sample_identities(
        config.num_ids + config.num_distractors,
        np.random.default_rng([seed, _IDENTITY_STREAM]),
        config.family_size,
    )
    cameras = sample_cameras(config.num_cameras, np.random.default_rng([seed, _CAMERA_STREAM]))
    rng = np.random.default_rng([seed, _LAYOUT_STREAM])
    # Families are consecutive identities; random pids spread each family over train and test.
    pids = [int(p) for p in rng.permutation(config.num_ids) + 1]
    train_pids = set(pids[: config.num_ids // 2])
    frames = [0] * config.num_cameras

    def next_frame(cam: int) -> int:
        frames[cam] += int(rng.integers(5, 60))
        return frames[cam]

    images: list[ImageSpec] = []
    for index in np.argsort(pids):
        pid = pids[index]
        lo, hi = config.cameras_per_id
        num_cams = min(int(rng.integers(lo, hi + 1)), config.num_cameras)
        cams = sorted(int(c) for c in rng.choice(config.num_cameras, num_cams, replace=False))
        per_cam = []
        for cam in cams:
            seq = int(rng.integers(1, 7))
            count = int(rng.integers(config.images_per_camera[0], config.images_per_camera[1] + 1))
            per_cam.append(
                [
                    ImageSpec("gallery", pid, cam, seq, next_frame(cam), 1, int(index))
                    for _ in range(count)
                ]
            )
        if pid in train_pids:
            images += [dataclasses.replace(s, split="train") for group in per_cam for s in group]
            continue
        query_cams: set[int] = set()
        for k in rng.permutation(len(cams))[: config.queries_per_id]:
            if _every_query_matched(per_cam, query_cams | {int(k)}):
                query_cams.add(int(k))
        for k, group in enumerate(per_cam):
            if k in query_cams:
                query = dataclasses.replace(group[0], split="query")
                images.append(query)
                images += [
                    dataclasses.replace(
                        query, split="multi_query", frame=next_frame(query.cam), hand_drawn=True
                    )
                    for _ in range(config.multi_query_images)
                ]
                group = group[1:]
            images += group
    for d in range(config.num_distractors):
        cam = int(rng.integers(config.num_cameras))
        seq, box = int(rng.integers(1, 7)), int(rng.integers(1, 4))
        spec = ImageSpec("gallery", 0, cam, seq, next_frame(cam), box, config.num_ids + d, True)
        images.append(spec)
    for _ in range(config.num_junk):
        cam = int(rng.integers(config.num_cameras))
        seq, box = int(rng.integers(1, 7)), int(rng.integers(1, 4))
        images.append(ImageSpec("gallery", -1, cam, seq, next_frame(cam), box, None))
    return SyntheticWorld(config, seed, identities, pids, cameras, images)


def _encode_jpeg(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def _digest(file_hashes: dict[str, str]) -> str:
    """SHA-256 over ``relative/path  sha256`` lines, sorted by path."""
    lines = "".join(f"{path}  {digest}\n" for path, digest in sorted(file_hashes.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def _image_files(root: Path) -> Iterator[Path]:
    for folder in SPLIT_DIRS.values():
        yield from sorted((root / folder).glob("*.jpg"))


def dataset_digest(root: str | Path) -> str:
    """Recompute the manifest's ``sha256`` from the image files under ``root``."""
    root = Path(root)
    hashes = {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in _image_files(root)
    }
    return _digest(hashes)


def verify_synthetic(root: str | Path) -> dict:
    """Check the images under ``root`` against its manifest; return the manifest.

    Raises:
        FileNotFoundError: no ``manifest.json`` in ``root``.
        ValueError: the files do not match the manifest's SHA-256 (both hashes are shown).
    """
    root = Path(root)
    path = root / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: {root} is not a generated synthetic dataset")
    manifest = read_json(path, "synthetic manifest")
    actual = dataset_digest(root)
    if actual != manifest["sha256"]:
        raise ValueError(
            f"synthetic dataset {root} does not match its manifest: expected sha256 "
            f"{manifest['sha256']}, found {actual} (files changed, added or removed)"
        )
    return manifest


def _counts(images: Sequence[ImageSpec]) -> dict[str, dict[str, int]]:
    counts = {}
    for split in SPLIT_DIRS:
        specs = [s for s in images if s.split == split]
        counts[split] = {
            "images": len(specs),
            "ids": len({s.pid for s in specs if s.pid > 0}),
            "cameras": len({s.cam for s in specs}),
            "distractors": sum(s.pid == 0 for s in specs),
            "junk": sum(s.pid == -1 for s in specs),
        }
    return counts


def generate_synthetic(
    out: str | Path,
    config: SyntheticConfig | None = None,
    *,
    seed: int = 0,
    preset: str | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> dict:
    """Render the dataset of ``config`` (default: the ``small`` preset) into ``out``.

    Args:
        out: output folder (created).
        config: the dataset config; ``None`` takes ``PRESETS[preset or "small"]``.
        seed: random seed; the same seed gives byte-identical files.
        preset: name recorded in the manifest (and the config used when ``config`` is None).
        overwrite: replace split folders that already exist in ``out``.
        progress: show a tqdm progress bar.

    Returns:
        The manifest written to ``out/manifest.json``: generator version, seed, config, counts,
        library versions and ``sha256`` (see :func:`dataset_digest`).

    Raises:
        FileExistsError: ``out`` already holds a split folder and ``overwrite`` is False.
    """
    if config is None:
        name = preset or "small"
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; expected one of {list(PRESETS)}")
        config = PRESETS[name]
    out = Path(out)
    for folder in SPLIT_DIRS.values():
        if (out / folder).exists():
            if not overwrite:
                raise FileExistsError(
                    f"{out / folder} already exists; pass overwrite=True (--overwrite) to replace"
                )
            shutil.rmtree(out / folder)
        (out / folder).mkdir(parents=True)

    world = build_world(config, seed)
    hashes: dict[str, str] = {}
    for index in tqdm(range(len(world.images)), disable=not progress, desc="synthetic"):
        spec = world.images[index]
        data = _encode_jpeg(world.render(index))
        rel = f"{SPLIT_DIRS[spec.split]}/{spec.filename}"
        (out / rel).write_bytes(data)
        hashes[rel] = hashlib.sha256(data).hexdigest()

    manifest = {
        "name": "synthetic",
        "layout": "market1501",
        "generator": f"reid_lib.data.synthetic v{GENERATOR_VERSION}",
        "preset": preset,
        "seed": seed,
        "config": dataclasses.asdict(config),
        "counts": _counts(world.images),
        "num_files": len(hashes),
        "sha256": _digest(hashes),
        "versions": {"numpy": np.__version__, "pillow": PIL.__version__},
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    identities = {
        str(pid): {"family": i // config.family_size, **dataclasses.asdict(world.identities[i])}
        for i, pid in enumerate(world.pids)
    }
    (out / IDENTITIES).write_text(json.dumps(identities, indent=1) + "\n")
    return manifest


def render_knob_grid(
    knob: str,
    values: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
    *,
    num_images: int = 6,
    identity: int = 0,
    config: SyntheticConfig | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Images of one identity with one knob turned up and every other knob at 0.

    Row ``r`` sets ``knob = values[r]``; column ``c`` is camera ``c mod num_cameras`` with the same
    random draws in every row, so rows differ only by the knob.

    Returns:
        uint8 array [len(values), num_images, height, width, 3].
    """
    if knob not in KNOBS:
        raise ValueError(f"unknown knob {knob!r}; expected one of {list(KNOBS)}")
    config = config or PRESETS["small"]
    world = build_world(dataclasses.replace(config, num_distractors=0, num_junk=0), seed)
    if not 0 <= identity < config.num_ids:
        raise ValueError(f"identity must lie in [0, {config.num_ids}), got {identity}")
    ident = world.identities[identity]
    size = (config.height, config.width)
    rows = []
    for value in values:
        knobs = Knobs.off(**{knob: value})
        rows.append(
            [
                render(
                    ident,
                    world.cameras[c % config.num_cameras],
                    knobs,
                    np.random.default_rng([seed, _IMAGE_STREAM, identity, c]),
                    size,
                )
                for c in range(num_images)
            ]
        )
    return np.asarray(rows, dtype=np.uint8)
