"""Confidence intervals of a mean: the one rule every table and verdict of the book uses.

A table reports a row's runs (seeds, or protocol splits) as their mean with the half-width of the
two-sided Student t interval of that mean. Our choice: the paper reports single runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from reid_lib.reports.significance import paired_t

#: The confidence level of every interval the book shows.
CONFIDENCE = 0.95


def mean_half_width(
    values: Sequence[float],
    confidence: float = CONFIDENCE,
    test_train_ratio: float | None = None,
) -> float:
    """The half-width of the t interval of the mean of ``values`` (``n - 1`` degrees of
    freedom); NaN for fewer than two values, 0 when they are all equal. With
    ``test_train_ratio`` the values come from overlapping random splits, and the variance is
    Nadeau and Bengio's corrected one (:func:`~reid_lib.reports.significance.paired_t`)."""
    test = paired_t(values, test_train_ratio)
    if math.isnan(test.df):
        return math.nan
    low, _ = test.interval(confidence)
    return test.mean - low
