"""What the rest of the library needs to know about the models without loading torch.

The configuration, the study rows and the report tables check architecture names and map sizes;
importing them from here keeps those modules free of torch (a test checks it).
"""

from __future__ import annotations

#: Every ``model.arch`` (see :mod:`reid_lib.models.factory`).
ARCHS = (
    "tang2022",
    "resnet_ide",
    "resnet_global",
    "pcb",
    "hpm",
    "colour_histogram",
    "lomo_xqda",
)
#: The archs no optimiser trains: a run of one is evaluated at once, after a closed-form fit on
#: the training split for LOMO + XQDA (``LomoXqda.fit``); the colour histogram needs none.
CLOSED_FORM = ("colour_histogram", "lomo_xqda")
#: Image pixels per stage4 row: the ResNet's stride 32, halved by last stride 1.
STAGE4_STRIDE = 16
