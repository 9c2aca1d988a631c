"""reid_lib: the library behind the person re-identification book.

The book reproduces Tang et al., "Person Re-Identification Based on Multi-Scale Global Feature and
Weight-Driven Part Feature" (AI Communications, 2022). Sub-packages, one concept each:

- ``reid_lib.models``: the backbone, non-local blocks, TSA, MSG, WDP, heads and the assembled model.
- ``reid_lib.losses``: label-smoothed cross-entropy, batch-hard triplet and their combination.
- ``reid_lib.data``: dataset records and loaders, the synthetic dataset, samplers and transforms.
- ``reid_lib.metrics``: distances, CMC/mAP/mINP, multi-query pooling, re-ranking.
- ``reid_lib.engine``: configuration, training loop, checkpoints and results files.
"""

__version__ = "0.1.0"
