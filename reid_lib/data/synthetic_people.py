"""Procedurally drawn pedestrians for the synthetic ReID dataset: identities, cameras, rendering.

An :class:`Identity` is a set of attributes (clothing colours and patterns, hair, bag, shoes, body
build); a :class:`Camera` is an illumination, a dominant viewpoint, a resolution and a background.
:func:`render` draws one image of an identity seen by a camera, with per-image pose, crop and
occlusion nuisances, each scaled by a :class:`Knobs` value in [0, 1].

Nothing here comes from the paper; the paper only names the challenges (lighting, posture,
viewpoint, resolution) that the knobs imitate. Every random value is drawn whatever the knob
values, so that a knob changes only its own nuisance (the book turns one knob at a time on the
same draws).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

RGB = tuple[int, int, int]

#: Clothing colours. Identities are drawn in families that share an upper and a lower colour.
CLOTHING_COLOURS: dict[str, RGB] = {
    "black": (30, 30, 34),
    "white": (225, 225, 218),
    "grey": (125, 125, 130),
    "navy": (32, 42, 92),
    "blue": (45, 95, 190),
    "sky": (125, 175, 225),
    "red": (185, 38, 42),
    "maroon": (110, 32, 44),
    "green": (42, 122, 62),
    "olive": (112, 112, 52),
    "yellow": (222, 192, 52),
    "orange": (222, 122, 42),
    "pink": (222, 132, 162),
    "purple": (102, 52, 132),
    "beige": (202, 182, 142),
    "brown": (112, 72, 42),
}
HAIR_COLOURS: tuple[RGB, ...] = ((20, 18, 16), (70, 45, 25), (190, 160, 90), (150, 150, 150))
SKIN_TONES: tuple[RGB, ...] = ((240, 200, 170), (205, 160, 120), (150, 105, 75), (95, 65, 45))
PATTERNS = ("solid", "stripes", "logo")
LOGO_SHAPES = ("square", "circle", "triangle")
BAGS = ("none", "backpack", "shoulder")
#: "left" and "right" are side views facing that way in the image.
VIEWS = ("front", "back", "left", "right")
KNOBS = ("lighting", "posture", "viewpoint", "resolution", "clutter", "occlusion", "misalignment")

#: Render at this multiple of the output size, then down-sample (anti-aliasing).
SUPERSAMPLE = 2
#: Most clutter shapes in one background (at clutter = 1).
MAX_CLUTTER_SHAPES = 14
_GREY = np.array([128.0, 128.0, 128.0])
#: Scenes (background and clutter colours) are this much less saturated than random colours.
_SCENE_SATURATION = 0.6


@dataclass(frozen=True)
class Knobs:
    """Strength of each nuisance, 0 (absent) to 1 (strongest).

    Camera-level: ``lighting`` (gain, colour cast, low-light noise), ``viewpoint`` (how often a
    camera sees its dominant view instead of the front), ``resolution`` (down- then up-scaling),
    ``clutter`` (the camera's background colour; shapes drawn per crop). Image-level: ``posture``
    (stride, arm swing, lean, sideways shift), ``occlusion`` (probability and size of an
    occluder), ``misalignment`` (vertical shift and scale of the crop). With every knob at 0 an
    identity looks the same in every image.
    """

    lighting: float = 0.5
    posture: float = 0.5
    viewpoint: float = 0.5
    resolution: float = 0.3
    clutter: float = 0.5
    occlusion: float = 0.3
    misalignment: float = 0.3

    def __post_init__(self) -> None:
        for name in KNOBS:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"knob {name!r} must lie in [0, 1], got {value}")

    @classmethod
    def off(cls, **overrides: float) -> Knobs:
        """All knobs at 0 except those given."""
        return cls(**{**dict.fromkeys(KNOBS, 0.0), **overrides})


@dataclass(frozen=True)
class Identity:
    """Appearance attributes of one person (colours are RGB triples)."""

    upper: RGB
    lower: RGB
    upper_pattern: str
    upper_accent: RGB
    lower_pattern: str
    lower_accent: RGB
    logo_shape: str
    stripe_period: float
    hair: RGB
    long_hair: bool
    skin: RGB
    shoes: RGB
    bag: str
    bag_colour: RGB
    bag_side: int
    build: float
    stature: float

    def local_cues(self) -> tuple:
        """The attributes other than the coarse colour scheme (upper, lower)."""
        return tuple(
            getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("upper", "lower")
        )


@dataclass(frozen=True)
class Camera:
    """One camera's nuisance parameters at full knob strength, plus its background colour.

    Attributes:
        gain_offset: brightness change at lighting = 1 (gain = 1 + lighting * gain_offset).
        cast: per-channel colour change at lighting = 1.
        view: the camera's dominant view, one of :data:`VIEWS`.
        scale: down-scaling factor at resolution = 1 (in general 1 - resolution * (1 - scale)).
        background: background colour at clutter = 1.
    """

    gain_offset: float
    cast: tuple[float, float, float]
    view: str
    scale: float
    background: RGB


def _colour(rng: np.random.Generator, table: Sequence[RGB]) -> RGB:
    return table[int(rng.integers(len(table)))]


def sample_identities(num: int, rng: np.random.Generator, family_size: int = 3) -> list[Identity]:
    """Draw ``num`` identities in families of ``family_size`` that share the coarse colour scheme.

    Members of a family wear the same upper and lower colours and differ only in local cues
    (pattern, accent colour, logo, shoes, bag, hair, build), so that global colour alone does not
    separate them. No two identities of a family have the same local cues. Families are consecutive:
    identity ``i`` belongs to family ``i // family_size``.
    """
    if family_size < 1:
        raise ValueError(f"family_size must be >= 1, got {family_size}")
    names = list(CLOTHING_COLOURS)
    colours = list(CLOTHING_COLOURS.values())
    identities: list[Identity] = []
    while len(identities) < num:
        upper_name, lower_name = rng.choice(names, size=2, replace=False)
        upper, lower = CLOTHING_COLOURS[upper_name], CLOTHING_COLOURS[lower_name]
        accents = [c for c in colours if c not in (upper, lower)]
        seen: set[tuple] = set()
        members = min(family_size, num - len(identities))
        while len(seen) < members:
            ident = Identity(
                upper=upper,
                lower=lower,
                upper_pattern=PATTERNS[int(rng.integers(len(PATTERNS)))],
                upper_accent=_colour(rng, accents),
                lower_pattern=PATTERNS[int(rng.integers(len(PATTERNS)))],
                lower_accent=_colour(rng, accents),
                logo_shape=LOGO_SHAPES[int(rng.integers(len(LOGO_SHAPES)))],
                stripe_period=round(float(rng.uniform(0.035, 0.06)), 4),
                hair=_colour(rng, HAIR_COLOURS),
                long_hair=bool(rng.random() < 0.4),
                skin=_colour(rng, SKIN_TONES),
                shoes=_colour(rng, colours),
                bag=BAGS[int(rng.integers(len(BAGS)))],
                bag_colour=_colour(rng, colours),
                bag_side=1 if rng.random() < 0.5 else -1,
                build=round(float(rng.uniform(0.8, 1.2)), 3),
                stature=round(float(rng.uniform(0.9, 1.0)), 3),
            )
            if ident.local_cues() not in seen:
                seen.add(ident.local_cues())
                identities.append(ident)
    return identities


def sample_cameras(num: int, rng: np.random.Generator) -> list[Camera]:
    """Draw ``num`` cameras; dominant views cycle through :data:`VIEWS` in a random order."""
    views = [VIEWS[i] for i in rng.permutation(np.resize(np.arange(len(VIEWS)), num))]
    cameras = []
    for view in views:
        cameras.append(
            Camera(
                gain_offset=round(float(rng.uniform(-0.55, 0.45)), 4),
                cast=tuple(round(float(c), 4) for c in rng.uniform(-0.25, 0.25, size=3)),
                view=view,
                scale=round(float(rng.uniform(0.2, 0.7)), 4),
                background=tuple(int(c) for c in rng.integers(40, 216, size=3)),
            )
        )
    return cameras


@dataclass(frozen=True)
class _Draws:
    """Every per-image random value, drawn in a fixed order whatever the knobs."""

    view_u: float
    random_view: str
    stride: float
    swing: float
    lean: float
    shift: float
    crop_dy: float
    crop_scale: float
    occlude_u: float
    occluder: int
    occluder_size: float
    occluder_pos: float
    occluder_colour: RGB
    gain_jitter: float
    noise_seed: int
    clutter: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator) -> _Draws:
        return cls(
            view_u=float(rng.random()),
            random_view=VIEWS[int(rng.integers(len(VIEWS)))],
            stride=float(rng.uniform(-1, 1)),
            swing=float(rng.uniform(-1, 1)),
            lean=float(rng.uniform(-1, 1)),
            shift=float(rng.uniform(-1, 1)),
            crop_dy=float(rng.uniform(-1, 1)),
            crop_scale=float(rng.uniform(-1, 1)),
            occlude_u=float(rng.random()),
            occluder=int(rng.integers(3)),
            occluder_size=float(rng.random()),
            occluder_pos=float(rng.random()),
            occluder_colour=tuple(int(c) for c in rng.integers(20, 236, size=3)),
            gain_jitter=float(rng.normal()),
            noise_seed=int(rng.integers(2**31)),
            # per shape: kind, x0, y0, x1, y1, r, g, b
            clutter=rng.random((MAX_CLUTTER_SHAPES, 8)),
        )


def _view(camera: Camera, draws: _Draws, viewpoint: float) -> str:
    """The camera's dominant view with probability 0.8 v, a random view with 0.2 v, else front."""
    if draws.view_u < 0.8 * viewpoint:
        return camera.view
    if draws.view_u < viewpoint:
        return draws.random_view
    return "front"


def _background(
    size: tuple[int, int], camera: Camera, draws: _Draws, clutter: float
) -> Image.Image:
    """Plain grey at clutter 0; the camera's colour, a ground gradient and shapes as it grows."""
    w, h = size
    base = _GREY + clutter * _SCENE_SATURATION * (np.asarray(camera.background, float) - _GREY)
    ramp = 1.0 - 0.35 * clutter * np.clip((np.arange(h) / h - 0.5) * 2, 0, 1)
    column = (base[None, None, :] * ramp[:, None, None]).clip(0, 255).astype(np.uint8)
    canvas = Image.fromarray(column.repeat(w, axis=1))
    draw = ImageDraw.Draw(canvas)
    for kind, x0, y0, x1, y1, r, g, b in draws.clutter[: round(clutter * MAX_CLUTTER_SHAPES)]:
        colour = base + _SCENE_SATURATION * (np.array([r, g, b]) * 255 - base)
        fill = tuple(int(c) for c in colour.clip(0, 255))
        if kind < 0.4:  # box (window, sign, parked object)
            xa, ya = x0 * w, y0 * h
            draw.rectangle(
                [xa, ya, xa + (0.1 + 0.4 * x1) * w, ya + (0.05 + 0.3 * y1) * h], fill=fill
            )
        elif kind < 0.7:  # vertical pole
            xa = x0 * w
            draw.rectangle([xa, 0, xa + (0.02 + 0.06 * x1) * w, h], fill=fill)
        else:  # horizontal line (kerb, rail)
            ya = y0 * h
            draw.rectangle([0, ya, w, ya + (0.005 + 0.02 * y1) * h], fill=fill)
    return canvas


def _shade(colour: RGB, factor: float) -> RGB:
    return tuple(int(min(255, c * factor)) for c in colour)


def _logo(draw: ImageDraw.ImageDraw, shape: str, cx: float, cy: float, r: float, fill: RGB) -> None:
    if shape == "square":
        draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    else:
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fill)


def _draw_person(
    ident: Identity, view: str, size: tuple[int, int], top: float, u: float, cx: float, pose: _Draws
) -> Image.Image:
    """Draw the person facing the camera (front), away (back) or to the right (left is mirrored).

    ``u`` is the person's height in pixels, ``top`` the y of the crown, ``cx`` the body axis.
    ``pose`` holds stride and arm-swing angles already scaled by the posture knob.
    """
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    side = view in ("left", "right")

    def y(f: float) -> float:
        return top + f * u

    wt = (0.075 if side else 0.12) * u * ident.build  # torso half-width
    lw = 0.06 * u * ident.build  # leg width
    leg_len = 0.43 * u
    hip_y, foot_y = y(0.50), y(0.50) + leg_len

    # Long hair hangs behind the shoulders (front view).
    if ident.long_hair and view == "front":
        d.rectangle([cx - 0.065 * u, y(0.06), cx + 0.065 * u, y(0.22)], fill=ident.hair)
    # Backpack seen from the side sticks out behind the back (the person faces +x).
    if ident.bag == "backpack" and side:
        d.rounded_rectangle(
            [cx - wt - 0.07 * u, y(0.18), cx - wt + 0.02 * u, y(0.43)], 0.02 * u, ident.bag_colour
        )

    # Legs: stride swings them forward/back seen from the side, apart seen from the front.
    hips = (0.0,) if side else (-0.055 * u * ident.build, 0.055 * u * ident.build)
    legs = []
    for k, dx in enumerate((0.0, 0.0) if side else hips):
        angle = pose.stride * (1 if k == 0 else -1)
        if side:
            fx = cx + leg_len * math.sin(angle)
            fy = hip_y + leg_len * math.cos(angle)
        else:
            fx = cx + dx + math.copysign(0.25 * leg_len * abs(math.sin(angle)), dx)
            fy = foot_y
        legs.append((cx + dx, fx, fy))
    for k, (hx, fx, fy) in enumerate(legs):
        colour = _shade(ident.lower, 0.8) if side and k == 1 else ident.lower
        d.line([(hx, hip_y), (fx, fy)], fill=colour, width=max(1, round(lw * 1.6 if side else lw)))
        if ident.lower_pattern == "stripes":
            d.line([(hx, hip_y), (fx, fy)], fill=ident.lower_accent, width=max(1, round(lw * 0.3)))
        sw = (0.11 if side else 0.075) * u
        sx = fx + (0.03 * u if side else 0.0)
        d.ellipse([sx - sw / 2, fy - 0.02 * u, sx + sw / 2, fy + 0.025 * u], fill=ident.shoes)
    d.rectangle([cx - wt, hip_y - 0.03 * u, cx + wt, hip_y + 0.04 * u], fill=ident.lower)
    if ident.lower_pattern == "logo" and view == "front":
        _logo(d, ident.logo_shape, legs[0][0], y(0.6), 0.025 * u, ident.lower_accent)

    # Arms: the far arm (side view) first, the near one after the torso.
    shoulder_y, arm_len, aw = y(0.17), 0.32 * u, max(1, round(0.05 * u))

    def arm(sx: float, angle: float, lateral: float, shade: float) -> None:
        hx = sx + arm_len * math.sin(angle) + lateral
        hy = shoulder_y + arm_len * math.cos(angle)
        d.line([(sx, shoulder_y), (hx, hy)], fill=_shade(ident.upper, shade), width=aw)
        r = 0.022 * u
        d.ellipse([hx - r, hy - r, hx + r, hy + r], fill=ident.skin)

    if side:
        arm(cx, -pose.swing, 0.0, 0.8)

    # Neck, torso, stripes, logo.
    d.rectangle([cx - 0.025 * u, y(0.11), cx + 0.025 * u, y(0.16)], fill=ident.skin)
    d.rounded_rectangle([cx - wt, y(0.15), cx + wt, y(0.5)], 0.03 * u, ident.upper)
    if ident.upper_pattern == "stripes":
        period = ident.stripe_period * u
        stripe_y = y(0.18)
        while stripe_y < y(0.48):
            d.rectangle(
                [cx - wt, stripe_y, cx + wt, stripe_y + period / 2], fill=ident.upper_accent
            )
            stripe_y += period
    if ident.upper_pattern == "logo" and view == "front":
        _logo(d, ident.logo_shape, cx, y(0.28), 0.05 * u, ident.upper_accent)

    if side:
        arm(cx, pose.swing, 0.0, 1.0)
    else:
        for s in (-1, 1):
            arm(cx + s * (wt + 0.025 * u), 0.0, s * 0.04 * u * (1 + abs(pose.swing)), 1.0)

    # Bags. The shoulder bag hangs on the person's left (bag_side = 1) or right side.
    if ident.bag == "backpack" and view == "back":
        d.rounded_rectangle(
            [cx - 0.8 * wt, y(0.18), cx + 0.8 * wt, y(0.44)], 0.03 * u, ident.bag_colour
        )
    if ident.bag == "backpack" and view == "front":
        for s in (-1, 1):
            d.line(
                [(cx + s * 0.6 * wt, y(0.15)), (cx + s * 0.6 * wt, y(0.4))],
                fill=ident.bag_colour,
                width=max(1, round(0.02 * u)),
            )
    if ident.bag == "shoulder":
        image_side = {"front": ident.bag_side, "back": -ident.bag_side}.get(view, 0)
        # Facing right, the person's left side is towards the camera; facing left, the right side.
        visible = {"right": ident.bag_side == 1, "left": ident.bag_side == -1}.get(view, True)
        bx = cx + image_side * (wt + 0.03 * u)
        d.line(
            [(cx - image_side * wt, y(0.16)), (bx, y(0.45))],
            fill=_shade(ident.bag_colour, 0.7),
            width=max(1, round(0.015 * u)),
        )
        if visible:
            d.rectangle([bx - 0.06 * u, y(0.43), bx + 0.06 * u, y(0.56)], fill=ident.bag_colour)

    # Head: face and hair cap (front), hair all over (back), half face (side).
    hb = [cx - 0.05 * u, y(0.013), cx + 0.05 * u, y(0.137)]
    if view == "back":
        d.ellipse(hb, fill=ident.hair)
        if ident.long_hair:
            d.rectangle([cx - 0.055 * u, y(0.07), cx + 0.055 * u, y(0.24)], fill=ident.hair)
    else:
        d.ellipse(hb, fill=ident.skin)
        d.chord([hb[0] - 1, hb[1] - 1, hb[2] + 1, hb[3] - 0.02 * u], 180, 360, fill=ident.hair)
        if side:
            d.pieslice(hb, 90, 270, fill=ident.hair)
            if ident.long_hair:
                d.rectangle([cx - 0.05 * u, y(0.07), cx - 0.01 * u, y(0.22)], fill=ident.hair)
    if view == "left":
        layer = layer.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return layer


def _occlude(canvas: Image.Image, draws: _Draws, occlusion: float) -> None:
    """With probability 0.8 * occlusion, cover part of the crop: low block, side block or pole."""
    if draws.occlude_u >= 0.8 * occlusion:
        return
    w, h = canvas.size
    d = ImageDraw.Draw(canvas)
    frac = 0.15 + 0.3 * occlusion * draws.occluder_size
    fill, edge = draws.occluder_colour, _shade(draws.occluder_colour, 0.6)
    if draws.occluder == 0:  # bench, car bonnet, another person's shoulder at the bottom
        box = [0, h * (1 - frac), w, h]
    elif draws.occluder == 1:  # object entering from one side
        box = [0, 0, w * frac, h] if draws.occluder_pos < 0.5 else [w * (1 - frac), 0, w, h]
    else:  # pole or tree trunk in front of the person
        x0 = draws.occluder_pos * w * (1 - frac / 2)
        box = [x0, 0, x0 + frac * w / 2, h]
    d.rectangle(box, fill=fill, outline=edge, width=max(1, w // 40))


def render(
    ident: Identity | None,
    camera: Camera,
    knobs: Knobs,
    rng: np.random.Generator,
    size: tuple[int, int] = (128, 64),
    *,
    partial: bool = False,
) -> np.ndarray:
    """Draw one image of ``ident`` seen by ``camera`` (``None``: background only).

    Args:
        ident: the person, or ``None`` for an empty crop (a junk detection).
        camera: the camera.
        knobs: nuisance strengths.
        rng: per-image generator; the same generator state gives the same image.
        size: (height, width) of the output.
        partial: a bad detection: the crop shows a zoomed part of the person (a distractor).

    Returns:
        uint8 array [height, width, 3].
    """
    height, width = size
    cw, ch = width * SUPERSAMPLE, height * SUPERSAMPLE
    draws = _Draws.draw(rng)
    partial_zoom = 1.3 + 0.7 * rng.random()
    partial_dy = rng.uniform(-0.5, 0.3)
    canvas = _background((cw, ch), camera, draws, knobs.clutter)

    if ident is not None:
        mis, post = knobs.misalignment, knobs.posture
        u = 0.92 * ch * ident.stature * (1 + mis * (0.12 * draws.crop_scale - 0.03))
        top = 0.04 * ch + mis * 0.15 * ch * draws.crop_dy
        if partial:
            u *= partial_zoom
            top += partial_dy * ch
        cx = cw / 2 + post * 0.08 * cw * draws.shift
        pose = dataclasses.replace(
            draws, stride=post * 0.45 * draws.stride, swing=post * 0.55 * draws.swing
        )
        view = _view(camera, draws, knobs.viewpoint)
        person = _draw_person(ident, view, (cw, ch), top, u, cx, pose)
        lean = post * 8.0 * draws.lean
        if lean:  # nearest-neighbour is enough: the canvas is down-sampled with Lanczos below
            person = person.rotate(lean, resample=Image.Resampling.NEAREST, center=(cx, top + u))
        canvas.paste(person, (0, 0), person)

    _occlude(canvas, draws, knobs.occlusion)
    canvas = canvas.resize((width, height), Image.Resampling.LANCZOS)

    factor = 1.0 - knobs.resolution * (1.0 - camera.scale)
    if factor < 1.0:
        small = (max(2, round(width * factor)), max(2, round(height * factor)))
        canvas = canvas.resize(small, Image.Resampling.BILINEAR).resize(
            (width, height), Image.Resampling.BILINEAR
        )

    img = np.asarray(canvas, dtype=np.float32)
    light = knobs.lighting
    if light:
        gain = max(0.2, 1.0 + light * (camera.gain_offset + 0.05 * draws.gain_jitter))
        cast = 1.0 + light * np.asarray(camera.cast, dtype=np.float32)
        img = img * (gain * cast)
        noise = np.random.default_rng(draws.noise_seed).normal(size=img.shape)
        img = img + (4.0 * light * noise).astype(np.float32)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)
