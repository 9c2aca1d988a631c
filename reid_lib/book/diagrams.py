"""Block diagrams of the model and its modules, drawn by code from the built model.

Each diagram is a small data-flow graph: boxes placed on a grid of columns (left to right) and
rows, joined by arrows down a column or from one column to a later one; a residual sum is written
in the label of the box that takes it (``z = x + ...``) rather than drawn across the boxes. The
labels carry the shapes of the model the chapter built, so a diagram drawn under ``smoke`` shows
ResNet-18 widths and one drawn under ``full`` the paper's. Plotting only; the shapes come from the
chapter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from torch import nn

#: Fill colours by kind of box: a tensor, an operation with parameters, one without.
COLOURS = {"tensor": "#e8eef7", "layer": "#cfe8cf", "op": "#f6e3c5"}
BOX_WIDTH, BOX_HEIGHT = 1.9, 0.62
COLUMN_STEP, ROW_STEP = 2.35, 0.95


@dataclass(frozen=True)
class Box:
    """One box of a diagram: ``key`` names it in edges; ``column`` and ``row`` place it."""

    key: str
    label: str
    column: float
    row: float
    kind: str = "layer"


def shape_text(shape: Sequence[int]) -> str:
    """``C x H x W`` of a ``[N, C, H, W]`` shape (the batch left out), or ``D`` of ``[N, D]``."""
    return " x ".join(str(s) for s in shape[1:])


def flow_diagram(
    boxes: Sequence[Box], edges: Sequence[tuple[str, str]], *, title: str = ""
) -> Figure:
    """Draw ``boxes`` and an arrow for each ``(from, to)`` of ``edges``.

    Raises:
        KeyError: an edge names a box that is not there.
    """
    where = {b.key: (b.column * COLUMN_STEP, -b.row * ROW_STEP) for b in boxes}
    missing = [k for edge in edges for k in edge if k not in where]
    if missing:
        raise KeyError(f"edges name boxes that do not exist: {sorted(set(missing))}")
    columns = max(b.column for b in boxes) + 1
    rows = max(b.row for b in boxes) - min(b.row for b in boxes) + 1
    fig, ax = plt.subplots(figsize=(1.15 * columns * COLUMN_STEP, 0.75 * rows * ROW_STEP + 0.6))
    for box in boxes:
        x, y = where[box.key]
        ax.add_patch(
            FancyBboxPatch(
                (x - BOX_WIDTH / 2, y - BOX_HEIGHT / 2),
                BOX_WIDTH,
                BOX_HEIGHT,
                boxstyle="round,pad=0.02,rounding_size=0.08",
                facecolor=COLOURS[box.kind],
                edgecolor="#555555",
                linewidth=0.8,
            )
        )
        ax.text(x, y, box.label, ha="center", va="center", fontsize=7.5)
    for start, end in edges:
        (x0, y0), (x1, y1) = where[start], where[end]
        if x0 == x1:  # down a column: bottom edge to top edge
            tail, head = (x0, y0 - BOX_HEIGHT / 2), (x1, y1 + BOX_HEIGHT / 2)
        else:  # to a later column: right edge to left edge
            tail, head = (x0 + BOX_WIDTH / 2, y0), (x1 - BOX_WIDTH / 2, y1)
        ax.annotate(
            "",
            xy=head,
            xytext=tail,
            arrowprops={"arrowstyle": "->", "color": "#333333", "lw": 0.9},
        )
    xs = [p[0] for p in where.values()]
    ys = [p[1] for p in where.values()]
    ax.set_xlim(min(xs) - BOX_WIDTH / 2 - 0.1, max(xs) + BOX_WIDTH / 2 + 0.1)
    ax.set_ylim(min(ys) - BOX_HEIGHT / 2 - 0.1, max(ys) + BOX_HEIGHT / 2 + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def architecture_diagram(stage_shapes: Mapping[str, Sequence[int]], num_parts: int) -> Figure:
    """The whole model: the backbone's stages with the non-local blocks after stage1 and stage2,
    then the stage3/stage4 heads, MSG with TSA, and WDP with its part heads.

    ``stage_shapes``: the shapes of ``model.stage_maps(images)``, stage1 to stage4.
    """
    s = {k: shape_text(v) for k, v in stage_shapes.items()}
    boxes = [
        Box("image", "image", 0, 0, "tensor"),
        Box("stage0", "stage0 (stem)\nconv, BN, ReLU, pool", 0, 1),
        Box("stage1", f"stage1 + non-local\n{s['stage1']}", 0, 2),
        Box("stage2", f"stage2 + non-local\n{s['stage2']}", 0, 3),
        Box("stage3", f"stage3\n{s['stage3']}", 0, 4),
        Box("stage4", f"stage4 (stride 1)\n{s['stage4']}", 0, 5),
        Box("head3", "stage3 head\navg + max, BN-neck", 1, 4),
        Box("head4", "stage4 head\navg + max, BN-neck", 1, 5),
        Box("msg", "MSG: 4 branches\nfuse, TSA, + F4", 1, 6),
        Box("wdp", f"WDP: {num_parts} parts\nfused with neighbours", 1, 7),
        Box("msg_head", "MSG head\nCE", 2, 6, "op"),
        Box("parts", f"{num_parts} part heads\nCE each", 2, 7, "op"),
    ]
    edges = [
        ("image", "stage0"),
        ("stage0", "stage1"),
        ("stage1", "stage2"),
        ("stage2", "stage3"),
        ("stage3", "stage4"),
        ("stage3", "head3"),
        ("stage4", "head4"),
        ("stage4", "msg"),
        ("stage4", "wdp"),
        ("msg", "msg_head"),
        ("wdp", "parts"),
    ]
    return flow_diagram(boxes, edges, title="the model (shapes: channels x height x width)")


def nonlocal_diagram(shape: Sequence[int]) -> Figure:
    """A non-local block on a ``[N, C, H, W]`` map: theta, phi and g, the softmax affinity over
    all positions, the weighted sum, ``W_z`` with BatchNorm, and the residual sum."""
    _, c, h, w = shape
    half = f"{c // 2} x {h} x {w}"
    boxes = [
        Box("x", f"x\n{c} x {h} x {w}", 0, 1, "tensor"),
        Box("theta", f"theta: 1x1 conv\n{half}", 1, 0),
        Box("phi", f"phi: 1x1 conv\n{half}", 1, 1),
        Box("g", f"g: 1x1 conv\n{half}", 1, 2),
        Box("affinity", f"softmax_j(theta_i . phi_j)\n{h * w} x {h * w}", 2, 0.5, "op"),
        Box("mix", f"sum_j f(i,j) g(x_j)\n{half}", 3, 1.5, "op"),
        Box("wz", f"W_z 1x1 conv + BN\n{c} x {h} x {w}", 4, 1.5),
        Box("z", f"z = x + BN(W_z ...)\n{c} x {h} x {w}", 5, 1.5, "op"),
    ]
    edges = [
        ("x", "theta"),
        ("x", "phi"),
        ("x", "g"),
        ("theta", "affinity"),
        ("phi", "affinity"),
        ("affinity", "mix"),
        ("g", "mix"),
        ("mix", "wz"),
        ("wz", "z"),
    ]
    return flow_diagram(boxes, edges, title="a non-local block (Wang et al., 2018)")


def msg_diagram(
    branch_layers: Mapping[str, str], f4_shape: Sequence[int], fused_channels: int
) -> Figure:
    """MSG on ``F4``: one box per branch (``name -> its layers as text``), their concatenation,
    the 1x1 fusion, the tiny spatial attention and the residual sum with ``F4``."""
    _, c, h, w = f4_shape
    names = list(branch_layers)
    boxes = [Box("input", f"F4\n{c} x {h} x {w}", 0, (len(names) - 1) / 2, "tensor")]
    boxes += [Box(n, f"{n}\n{branch_layers[n]}", 1, i) for i, n in enumerate(names)]
    middle = (len(names) - 1) / 2
    boxes += [
        Box("concat", f"concatenate\n{fused_channels} x {h} x {w}", 2, middle, "op"),
        Box("fuse", f"fuse: 1x1 conv\n{c} x {h} x {w}", 3, middle),
        Box("tsa", "TSA: channel mean,\n3x3 conv, sigmoid, x", 4, middle),
        Box("g", f"G = F4 + TSA(...)\n{c} x {h} x {w}", 5, middle, "op"),
    ]
    edges = [("input", n) for n in names] + [(n, "concat") for n in names]
    edges += [("concat", "fuse"), ("fuse", "tsa"), ("tsa", "g")]
    return flow_diagram(boxes, edges, title="the multi-scale global module with TSA")


def wdp_diagram(num_parts: int, channels: int) -> Figure:
    """WDP with ``num_parts`` stripes of ``channels`` channels: each part ``p_i``, its remainder
    ``t_i`` (the neighbours' sum), the shared weight network and the fused part ``f_i``."""
    boxes = [Box("input", f"F4\n{channels} x H x W", 0, (num_parts - 1) / 2, "tensor")]
    edges = []
    for i in range(num_parts):
        n = i + 1
        neighbours = [f"p{k}" for k in (n - 1, n + 1) if 1 <= k <= num_parts]
        boxes += [
            Box(f"p{n}", f"p{n}: stripe {n}\n{channels}", 1, i, "op"),
            Box(f"t{n}", f"t{n} = {' + '.join(neighbours)}", 2, i, "op"),
            Box(f"w{n}", f"FC, ReLU, FC, sigmoid\n-> a{n}, b{n}", 3, i),
            Box(f"f{n}", f"f{n} = a{n} p{n} + b{n} t{n}", 4, i, "op"),
        ]
        edges += [("input", f"p{n}"), (f"p{n}", f"t{n}"), (f"t{n}", f"w{n}"), (f"w{n}", f"f{n}")]
    return flow_diagram(boxes, edges, title="weight-driven part fusion (FC layers shared by parts)")


def describe_branch(branch: nn.Module) -> str:
    """The windows of a branch's convolutions and poolings, in order (``1x1 conv, 3x3 conv``)."""
    parts = []
    for layer in branch.modules():
        if isinstance(layer, nn.Conv2d | nn.AvgPool2d | nn.MaxPool2d):
            size = layer.kernel_size
            k = size if isinstance(size, int) else size[0]
            kind = "conv" if isinstance(layer, nn.Conv2d) else "pool"
            parts.append(f"{k}x{k} {kind}")
    return ", ".join(parts)
