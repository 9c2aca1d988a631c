"""The module chapters' teaching aids: diagrams drawn from the model, source, and costs."""

from __future__ import annotations

import matplotlib
import pytest
import torch

from reid_lib.book.diagrams import (
    Box,
    architecture_diagram,
    describe_branch,
    flow_diagram,
    msg_diagram,
    nonlocal_diagram,
    wdp_diagram,
)
from reid_lib.book.teaching import module_costs, show_source
from reid_lib.engine.config import load_config
from reid_lib.engine.experiment import build_model_from_config
from reid_lib.models.tiny_spatial_attention import TinySpatialAttention

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model_from_config(load_config("smoke"), 10)


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts]


def test_a_flow_diagram_draws_one_box_per_node_and_one_arrow_per_edge():
    boxes = [Box("a", "a", 0, 0, "tensor"), Box("b", "b", 1, 0), Box("c", "c", 1, 1, "op")]
    fig = flow_diagram(boxes, [("a", "b"), ("a", "c")], title="t")
    ax = fig.axes[0]
    assert len(ax.patches) == 3
    assert [t.get_text() for t in ax.texts] == ["a", "b", "c", "", ""]  # two arrows, no text
    with pytest.raises(KeyError, match=r"\['z'\]"):
        flow_diagram(boxes, [("a", "z")])


def test_a_flow_diagram_is_as_wide_as_its_boxes_and_keeps_side_by_side_boxes_apart():
    narrow = flow_diagram([Box("a", "ab", 0, 0), Box("b", "cd", 1, 0)], [("a", "b")])
    wide = flow_diagram([Box("a", "ab" * 10, 0, 0), Box("b", "cd" * 10, 1, 0)], [("a", "b")])
    assert wide.get_figwidth() > 2 * narrow.get_figwidth()
    fig = flow_diagram([Box("a", "x" * 20, 0, 0), Box("b", "y" * 20, 1, 0)], [])
    left, right = (patch.get_extents() for patch in fig.axes[0].patches)
    assert left.x1 < right.x0, "two boxes of a row do not overlap"
    stacked = flow_diagram([Box("a", "x" * 20, 0, 0), Box("b", "y", 0.2, 1)], [("a", "b")])
    assert stacked.get_figwidth() < fig.get_figwidth(), "boxes in other rows may share x"


def test_diagrams_carry_the_shapes_of_the_built_model(model):
    images = torch.randn(2, 3, 64, 32)
    with torch.no_grad():
        maps = model.eval().stage_maps(images)
    shapes = {k: tuple(v.shape) for k, v in maps.items()}
    arch = texts(architecture_diagram(shapes, model.wdp.num_parts))
    assert "stage4 (stride 1)\n512 x 4 x 2" in arch
    assert "WDP: 3 parts\nfused with neighbours" in arch
    nl = texts(nonlocal_diagram(shapes["stage1"]))
    assert "theta: 1x1 conv\n32 x 16 x 8" in nl
    assert "f = softmax over j\nof theta_i . phi_j\n128 x 128" in nl
    layers = {name: describe_branch(b) for name, b in model.msg.branches.items()}
    assert layers["b1"] == "1x1 conv" and "pool" in layers["b4"]
    msg = texts(msg_diagram(layers, shapes["stage4"], 4 * 512))
    assert "concatenate\n2048 x 4 x 2" in msg and "b2\n1x1 conv\n5x5 conv" in msg
    wdp = texts(wdp_diagram(3, 512))
    assert {"p1", "p2", "p3", "t2 = p1 + p3", "f2 = a2 p2 + b2 t2"} <= set(wdp)
    assert "t1 = p2" in texts(wdp_diagram(1 + 1, 512)), "a first part has one neighbour"


def test_source_is_read_from_the_library():
    code = show_source(TinySpatialAttention)
    assert "class TinySpatialAttention" in code.data and code.language == "python"


def test_module_costs_give_each_modules_share_of_the_model(model):
    table = module_costs(model, torch.randn(4, 3, 64, 32), ["backbone", "msg", "msg.tsa"])
    lines = table.set_index("module")
    assert lines.loc["msg.tsa", "parameters"] == 10
    total = sum(p.numel() for p in model.parameters())
    assert lines.loc["whole model", "parameters"] == total
    share = 100 * sum(p.numel() for p in model.msg.parameters()) / total
    assert lines.loc["msg", "% of parameters"] == pytest.approx(share)
    assert 0 < lines.loc["backbone", "% of forward FLOPs"] < 100
