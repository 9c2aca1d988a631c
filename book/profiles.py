"""Run profiles of the book: how big each chapter's computation is.

The paper fixes none of this; these are our choices, sized so that ``smoke`` runs every chapter in
seconds on a 2-core CPU (CI), ``cpu`` in minutes on a laptop, and ``full`` is the paper-sized
setting for a GPU.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Profile:
    """How large one run of a chapter is.

    Attributes:
        name: ``"smoke"``, ``"cpu"`` or ``"full"``.
        epochs: training epochs of the chapters that train.
        backbone: ResNet depth the chapters build (``"resnet18"`` keeps CPU runs small).
        image_size: (height, width) of the images the chapters feed the model.
        synthetic_preset: the synthetic dataset preset (``reid_lib.data.synthetic.PRESETS``).
        batch_identities: P of the P x K sampler.
        batch_instances: K of the P x K sampler.
        pretrained: backbone initialisation, ``"random"`` or ``"imagenet"``.
    """

    name: str
    epochs: int
    backbone: str
    image_size: tuple[int, int]
    synthetic_preset: str
    batch_identities: int
    batch_instances: int
    pretrained: str

    def as_dict(self) -> dict[str, object]:
        """The profile as plain JSON-ready values (for results files)."""
        return {**asdict(self), "image_size": list(self.image_size)}


PROFILES: dict[str, Profile] = {
    "smoke": Profile("smoke", 2, "resnet18", (96, 48), "tiny", 4, 4, "random"),
    "cpu": Profile("cpu", 10, "resnet18", (128, 64), "small", 8, 4, "random"),
    "full": Profile("full", 120, "resnet50", (256, 128), "small", 16, 4, "imagenet"),
}


def get_profile(name: str) -> Profile:
    """The profile called ``name``.

    Raises:
        ValueError: ``name`` is not one of :data:`PROFILES`.
    """
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; expected one of {sorted(PROFILES)}") from None
