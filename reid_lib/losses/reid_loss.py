"""The combined loss of the paper, on the model's :class:`~reid_lib.models.outputs.ModelOutput`.

Spec (the paper's Eq. 9 is not in its text; this follows its description)::

    L = sum over s in {3, 4} of [ CE(a_s + m_s) + (Tri(a_s) + Tri(m_s)) / 2 ]
        + CE(MSG) + (1/P) sum_i CE(f_i)

CE is label-smoothed, Tri is batch-hard. Each term has a configurable weight (all 1 by default):
``total = sum of weight * term``. The terms reported are unweighted, named ``ce_stage3``,
``tri_stage3``, ``ce_stage4``, ``tri_stage4``, ``ce_msg`` and ``ce_parts``; the last two are absent
when the model has no MSG or no part branch.
"""

from __future__ import annotations

import torch
from torch import Tensor

from reid_lib.losses.triplet import batch_hard_triplet
from reid_lib.losses.weighted_terms import LossOutput, WeightedTermLoss
from reid_lib.models.outputs import ModelOutput

# Term kind -> default weight; the weight of "ce_stage3" is that of "ce", etc.
DEFAULT_WEIGHTS = {"ce": 1.0, "tri": 1.0, "msg": 1.0, "parts": 1.0}


class ReIDLoss(WeightedTermLoss):
    """``(ModelOutput, targets [N]) -> LossOutput``.

    Args:
        epsilon: label smoothing of every cross-entropy (spec: 0.1).
        margin: triplet margin (spec: 0.3); ``None`` for the soft margin.
        weights: overrides of :data:`DEFAULT_WEIGHTS`, by kind: ``"ce"`` (stage cross-entropies),
            ``"tri"`` (stage triplets), ``"msg"`` and ``"parts"``.
        class_groups: each class's training set, for a per-set softmax (``WeightedTermLoss``).
    """

    default_weights = DEFAULT_WEIGHTS

    def forward(self, output: ModelOutput, targets: Tensor) -> LossOutput:
        terms: dict[str, Tensor] = {}
        kinds: dict[str, str] = {}
        for stage, out in output.stages.items():
            terms[f"ce_{stage}"] = self.cross_entropy(out.logits, targets)
            tri_avg = batch_hard_triplet(out.avg, targets, self.margin)
            tri_max = batch_hard_triplet(out.max, targets, self.margin)
            terms[f"tri_{stage}"] = (tri_avg + tri_max) / 2
            kinds[f"ce_{stage}"], kinds[f"tri_{stage}"] = "ce", "tri"
        if output.msg is not None:
            terms["ce_msg"] = self.cross_entropy(output.msg.logits, targets)
            kinds["ce_msg"] = "msg"
        if output.parts is not None:
            per_part = [
                self.cross_entropy(logits, targets) for logits in output.parts.logits.unbind(dim=1)
            ]
            terms["ce_parts"] = torch.stack(per_part).mean()
            kinds["ce_parts"] = "parts"
        total = sum(self.weights[kinds[name]] * term for name, term in terms.items())
        return LossOutput(total=total, terms=terms)
