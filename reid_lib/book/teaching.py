"""What a module chapter shows besides its figures: the library's source of a module, and what
the module costs in parameters and FLOPs next to the whole model.

The source is read from the installed library (``inspect``), never copied into a chapter, so the
book always shows the code that ran.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import pandas as pd
import torch
from IPython.display import Code
from torch import nn

from reid_lib.engine.config import load_config
from reid_lib.engine.cost_report import measure_cost
from reid_lib.engine.experiment import build_model_from_config


def show_source(obj: object) -> Code:
    """The source of a class or function of the library, highlighted as Python."""
    return Code(inspect.getsource(obj), language="python")


def module_costs(
    model: nn.Module, images: torch.Tensor, modules: Sequence[str], *, num_ids: int = 2
) -> pd.DataFrame:
    """Parameters and forward GFLOPs per image of each named submodule of ``model``, with its
    share of the whole model, for one training step on ``images`` (labels: ``num_ids``
    identities in turn; see :func:`reid_lib.engine.cost_report.measure_cost`)."""
    targets = torch.arange(len(images)) % num_ids
    depth = max(name.count(".") for name in modules) + 1
    cost = measure_cost(model, images, targets, depth=depth)
    rows = {row.name: row for row in cost.modules}
    n = len(images)
    lines = [
        {
            "module": name,
            "parameters": rows[name].params,
            "% of parameters": 100 * rows[name].params / cost.params,
            "forward GFLOPs/image": rows[name].forward_flops / n / 1e9,
            "% of forward FLOPs": 100 * rows[name].forward_flops / cost.forward_flops,
        }
        for name in modules
    ]
    lines.append(
        {
            "module": "whole model",
            "parameters": cost.params,
            "% of parameters": 100.0,
            "forward GFLOPs/image": cost.forward_flops / n / 1e9,
            "% of forward FLOPs": 100.0,
        }
    )
    return pd.DataFrame(lines)


#: The paper's setting for :func:`paper_size_costs`: Market-1501's 751 training identities.
PAPER_NUM_CLASSES = 751


def paper_size_costs(modules: Sequence[str], batch: int = 4) -> pd.DataFrame:
    """:func:`module_costs` of the ``full`` preset's model (ResNet-50, 256x128, six parts; random
    weights, so nothing is downloaded) on a random batch: the module at the paper's size,
    whatever profile the chapter runs."""
    config = load_config("full", ["model.pretrained=null"])
    torch.manual_seed(0)
    model = build_model_from_config(config, PAPER_NUM_CLASSES)
    images = torch.randn(batch, 3, config.data.height, config.data.width)
    return module_costs(model, images, modules)
