"""Confidence intervals of a mean: the one rule every table and verdict of the book uses.

A table reports a row's runs (seeds, or protocol splits) as their mean with the half-width of the
two-sided Student t interval of that mean. Our choice: the paper reports single runs.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from scipy import stats

#: The confidence level of every interval the book shows.
CONFIDENCE = 0.95


def t_half_width(standard_error: float, df: float, confidence: float = CONFIDENCE) -> float:
    """``t(0.5 + confidence / 2, df) * standard_error``: the half-width of a t interval."""
    return float(stats.t.ppf(0.5 + confidence / 2, df)) * standard_error


def mean_half_width(values: Sequence[float], confidence: float = CONFIDENCE) -> float:
    """The half-width of the t interval of the mean of ``values`` (``n - 1`` degrees of
    freedom); NaN for fewer than two values, 0 when they are all equal."""
    n = len(values)
    if n < 2:
        return math.nan
    return t_half_width(statistics.stdev(values) / math.sqrt(n), n - 1, confidence)
