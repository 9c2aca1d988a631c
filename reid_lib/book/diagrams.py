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
#: Inches: the space round a box's text, and between boxes (and round the figure).
PAD, GAP = 0.1, 0.3
#: An average glyph's width and a line's height, in ems of the font (DejaVu Sans).
GLYPH_EMS, LINE_EMS = 0.62, 1.3


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


def _box_size(label: str, font_inches: float) -> tuple[float, float]:
    """(width, height) in inches of the box round ``label``, at a font ``font_inches`` high."""
    lines = label.split("\n")
    width = max(len(line) for line in lines) * GLYPH_EMS * font_inches
    return width + 2 * PAD, len(lines) * LINE_EMS * font_inches + 2 * PAD


def _steps(boxes: Sequence[Box], sizes: Mapping[str, tuple[float, float]]) -> tuple[float, float]:
    """Inches per column and per row: the least that keeps apart any two boxes that share a row
    (side by side) or a column (one above the other)."""
    column_step = max(w for w, _ in sizes.values()) + GAP
    row_step = max(h for _, h in sizes.values()) + GAP
    beside = [
        ((sizes[a.key][0] + sizes[b.key][0]) / 2 + GAP) / (b.column - a.column)
        for a in boxes
        for b in boxes
        if b.column > a.column and abs(a.row - b.row) < 1
    ]
    return (max(beside) if beside else column_step), row_step


def flow_diagram(
    boxes: Sequence[Box],
    edges: Sequence[tuple[str, str]],
    *,
    title: str = "",
    downward: bool = False,
) -> Figure:
    """Draw ``boxes`` and an arrow for each ``(from, to)`` of ``edges``, at the book's type size.

    Each box is as large as its text; columns are as far apart as the widest boxes that sit side
    by side need, so the figure is as wide as its content. An arrow joins a box's right edge to
    the next one's left edge, or its bottom edge to the top edge of a box below it in the same
    column; with ``downward`` (the flow runs top to bottom), every arrow between rows joins
    bottom to top.

    Raises:
        KeyError: an edge names a box that is not there.
    """
    keys = {b.key: b for b in boxes}
    missing = [k for edge in edges for k in edge if k not in keys]
    if missing:
        raise KeyError(f"edges name boxes that do not exist: {sorted(set(missing))}")
    font_points = plt.rcParams["font.size"]
    sizes = {b.key: _box_size(b.label, font_points / 72) for b in boxes}
    column_step, row_step = _steps(boxes, sizes)
    where = {b.key: (b.column * column_step, -b.row * row_step) for b in boxes}
    left = min(where[k][0] - sizes[k][0] / 2 for k in keys) - GAP / 2
    right = max(where[k][0] + sizes[k][0] / 2 for k in keys) + GAP / 2
    bottom = min(where[k][1] - sizes[k][1] / 2 for k in keys) - GAP / 2
    top = max(where[k][1] + sizes[k][1] / 2 for k in keys) + GAP / 2
    fig = plt.figure(figsize=(right - left, top - bottom))
    ax = fig.add_axes((0, 0, 1, 1))
    for box in boxes:
        (x, y), (width, height) = where[box.key], sizes[box.key]
        ax.add_patch(
            FancyBboxPatch(
                (x - width / 2, y - height / 2),
                width,
                height,
                boxstyle="round,pad=0,rounding_size=0.06",
                facecolor=COLOURS[box.kind],
                edgecolor="#555555",
                linewidth=0.8,
            )
        )
        ax.text(x, y, box.label, ha="center", va="center", linespacing=LINE_EMS - 0.1)
    for start, end in edges:
        (x0, y0), (x1, y1) = where[start], where[end]
        (w0, h0), (w1, h1) = sizes[start], sizes[end]
        if x0 == x1 or (downward and y0 != y1):  # down: bottom edge to top edge
            tail, head = (x0, y0 - h0 / 2), (x1, y1 + h1 / 2)
        else:  # to a later column: right edge to left edge
            tail, head = (x0 + w0 / 2, y0), (x1 - w1 / 2, y1)
        ax.annotate(
            "",
            xy=head,
            xytext=tail,
            arrowprops={"arrowstyle": "->", "color": "#333333", "lw": 0.9},
        )
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.axis("off")
    if title:
        ax.set_title(title)
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
    """A non-local block on a ``[N, C, H, W]`` map, top to bottom: theta, phi and g, the softmax
    affinity over all positions, the weighted sum, ``W_z`` with BatchNorm, and the residual sum."""
    _, c, h, w = shape
    half, full = f"{c // 2} x {h} x {w}", f"{c} x {h} x {w}"
    boxes = [
        Box("x", f"x\n{full}", 1, 0, "tensor"),
        Box("theta", f"theta: 1x1 conv\n{half}", 0, 1),
        Box("phi", f"phi: 1x1 conv\n{half}", 1, 1),
        Box("g", f"g: 1x1 conv\n{half}", 2, 1),
        Box("affinity", f"f = softmax over j\nof theta_i . phi_j\n{h * w} x {h * w}", 0.5, 2, "op"),
        Box("mix", f"y_i = sum over j\nof f(i,j) g(x_j)\n{half}", 1.5, 3, "op"),
        Box("wz", f"W_z: 1x1 conv + BN\n{full}", 1, 4),
        Box("z", f"z = x + BN(W_z y)\n{full}", 1, 5, "op"),
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
    return flow_diagram(boxes, edges, title="a non-local block (Wang et al., 2018)", downward=True)


def msg_diagram(
    branch_layers: Mapping[str, str], f4_shape: Sequence[int], fused_channels: int
) -> Figure:
    """MSG on ``F4``, top to bottom: one box per branch (``name -> its layers``, as
    :func:`describe_branch` writes them), their concatenation, the 1x1 fusion, the tiny spatial
    attention and the residual sum with ``F4``."""
    _, c, h, w = f4_shape
    names = list(branch_layers)
    middle = (len(names) - 1) / 2
    boxes = [Box("input", f"F4\n{c} x {h} x {w}", middle, 0, "tensor")]
    boxes += [
        Box(n, "\n".join([n, *branch_layers[n].split(", ")]), i, 1) for i, n in enumerate(names)
    ]
    boxes += [
        Box("concat", f"concatenate\n{fused_channels} x {h} x {w}", middle, 2, "op"),
        Box("fuse", f"fuse: 1x1 conv\n{c} x {h} x {w}", middle, 3),
        Box("tsa", "TSA: channel mean,\n3x3 conv, sigmoid, x", middle, 4),
        Box("g", f"G = F4 + TSA(...)\n{c} x {h} x {w}", middle, 5, "op"),
    ]
    edges = [("input", n) for n in names] + [(n, "concat") for n in names]
    edges += [("concat", "fuse"), ("fuse", "tsa"), ("tsa", "g")]
    return flow_diagram(boxes, edges, title="the multi-scale global module with TSA", downward=True)


def wdp_diagram(num_parts: int, channels: int) -> Figure:
    """WDP on ``F4``, top to bottom: its ``num_parts`` stripes ``p_i`` of ``channels`` channels,
    then, drawn for the middle part ``k``, its remainder ``t_k`` (the neighbours' sum), the weight
    network every part shares, and the fused part ``f_k``. A first or last part has one
    neighbour."""
    k = (num_parts + 1) // 2
    neighbours = [n for n in (k - 1, k + 1) if 1 <= n <= num_parts]
    boxes = [Box("input", f"F4\n{channels} x H x W", (num_parts - 1) / 2, 0, "tensor")]
    boxes += [Box(f"p{n}", f"p{n}", n - 1, 1, "op") for n in range(1, num_parts + 1)]
    boxes += [
        Box("t", f"t{k} = {' + '.join(f'p{n}' for n in neighbours)}", k - 1, 2, "op"),
        Box(
            "w",
            f"a{k}, b{k} = FC, ReLU, FC,\nsigmoid of (p{k}, t{k})\n(shared by the parts)",
            k - 1,
            3,
        ),
        Box("f", f"f{k} = a{k} p{k} + b{k} t{k}", k - 1, 4, "op"),
    ]
    edges = [("input", f"p{n}") for n in range(1, num_parts + 1)]
    edges += [(f"p{n}", "t") for n in neighbours] + [("t", "w"), ("w", "f")]
    title = f"weight-driven part fusion of {num_parts} stripes ({channels} channels), for p{k}"
    return flow_diagram(boxes, edges, title=title, downward=True)


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
