"""Significance of a paired difference: the corrected resampled t-test, Holm's step-down
adjustment, and the smallest effect a comparison could have detected.

- **Overlapping splits.** The runs of a small real set differ by their random half/half split of
  the identities, and two splits share about half their training people. Their differences are
  therefore correlated, and the plain t-test over splits is too sure of itself. Nadeau and Bengio
  (Machine Learning 52, 2003) correct the variance of the mean of ``J`` such differences from
  ``s^2 / J`` to ``(1 / J + n_test / n_train) * s^2``, with ``n_test / n_train`` the protocol's
  ratio of test to training identities (:data:`SPLIT_TEST_TRAIN_RATIO`; 1 for a half/half split,
  which makes the standard error ``sqrt(J + 1)`` times wider over ``J`` splits).
- **Many comparisons.** A study judges several comparisons; Holm's step-down rule (Scand. J.
  Statist. 6, 1979) keeps the chance of any false verdict in the study at 5% whatever their
  dependence, and is never stricter than Bonferroni's.
- **Power.** :func:`minimum_detectable_effect` is the smallest true difference the test would
  find four times in five (80% power) at the family's strictest Holm level ``alpha / m``, from the
  noncentral t distribution: "no clear difference" then reads "no difference larger than this".
- **What more runs buy.** :func:`units_for_effect` is how many units (seeds, or splits) a paired
  test needs for that smallest difference to reach a target, given the spread of the unit
  differences; over random splits the corrected variance never falls below ``ratio * s^2``, so
  :func:`detectable_limit` bounds what any number of splits can detect.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import optimize, stats

#: Test identities over training identities of each small real set's random splits (the loaders
#: of ``reid_lib.data``): VIPeR 316/316, PRID 2011 100/100 (its gallery-only people are
#: distractors, in no split), GRID 125/125 (its 775 distractors likewise), CAVIAR4REID 25/47
#: (25 two-camera ids test; the other 25 and the 22 one-camera ids train).
SPLIT_TEST_TRAIN_RATIO = {"viper": 1.0, "prid2011": 1.0, "grid": 1.0, "caviar4reid": 25 / 47}
#: The level of every test and the power of every minimum detectable effect the book reports.
ALPHA, POWER = 0.05, 0.8
#: The smallest difference (mAP points) the book's studies aim to detect: about the size of the
#: effects the paper reports for its modules (our choice of target).
TARGET_EFFECT = 1.5


@dataclass(frozen=True)
class TTest:
    """A t-test of a mean difference.

    Attributes:
        mean: the mean difference.
        se: its standard error (corrected for overlapping splits when the test says so).
        df: degrees of freedom (NaN with fewer than two units on a side).
        p: the two-sided p-value (1.0 when ``se`` is 0 and ``mean`` is 0; 0.0 when ``se`` is 0
            and ``mean`` is not; NaN when ``df`` is).
    """

    mean: float
    se: float
    df: float
    p: float

    def interval(self, confidence: float = 1 - ALPHA) -> tuple[float, float]:
        """The two-sided t interval of the mean difference at ``confidence``."""
        half = float(stats.t.ppf(0.5 + confidence / 2, self.df)) * self.se
        return self.mean - half, self.mean + half


def _p_value(mean: float, se: float, df: float) -> float:
    if math.isnan(df):
        return math.nan
    if se == 0:
        return 1.0 if mean == 0 else 0.0
    return float(2 * stats.t.sf(abs(mean) / se, df))


def paired_t(differences: Sequence[float], test_train_ratio: float | None = None) -> TTest:
    """The paired t-test of ``differences`` (one per unit), with ``len - 1`` degrees of freedom.

    ``test_train_ratio`` (the units are random splits of one set, :data:`SPLIT_TEST_TRAIN_RATIO`)
    applies Nadeau and Bengio's corrected variance ``(1 / J + ratio) * s^2``; None gives the
    plain ``s^2 / J`` (units that share nothing, such as seeds on fixed data).
    """
    n = len(differences)
    mean = statistics.fmean(differences) if n else math.nan
    if n < 2:
        return TTest(mean, math.nan, math.nan, math.nan)
    variance = statistics.variance(differences)
    factor = 1 / n + (test_train_ratio or 0.0)
    se = math.sqrt(factor * variance)
    return TTest(mean, se, n - 1, _p_value(mean, se, n - 1))


def welch_t(a: Sequence[float], b: Sequence[float]) -> TTest:
    """Welch's t-test of ``mean(a) - mean(b)`` (unequal variances, Welch-Satterthwaite degrees
    of freedom): the test of unpaired runs."""
    mean = statistics.fmean(a) - statistics.fmean(b) if len(a) and len(b) else math.nan
    if len(a) < 2 or len(b) < 2:
        return TTest(mean, math.nan, math.nan, math.nan)
    parts = [statistics.variance(x) / len(x) for x in (a, b)]
    se = math.sqrt(sum(parts))
    df = (
        sum(parts) ** 2 / sum(part**2 / (len(x) - 1) for part, x in zip(parts, (a, b), strict=True))
        if se > 0
        else len(a) + len(b) - 2
    )
    return TTest(mean, se, df, _p_value(mean, se, df))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's adjusted p-values, in the order given: the i-th smallest of ``m`` is multiplied by
    ``m - i + 1``, made non-decreasing along that order, and capped at 1. A comparison passes at
    family-wise level ``alpha`` when its adjusted value is below ``alpha``. NaN values (tests
    that could not be made) stay NaN and do not count in ``m``."""
    known = sorted((p, i) for i, p in enumerate(p_values) if not math.isnan(p))
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(known):
        running = max(running, min(1.0, (len(known) - rank) * p))
        adjusted[i] = running
    return adjusted


def minimum_detectable_effect(
    se: float, df: float, *, alpha: float = ALPHA, power: float = POWER
) -> float:
    """The smallest true difference that a two-sided t-test at level ``alpha`` with standard
    error ``se`` and ``df`` degrees of freedom detects with probability ``power``.

    Solved exactly on the noncentral t distribution (both tails count). NaN when ``se`` or
    ``df`` is NaN; 0 when ``se`` is 0; with ``df`` infinite, the z test's.
    """
    if math.isnan(se) or math.isnan(df):
        return math.nan
    if se == 0:
        return 0.0
    critical = float(stats.t.ppf(1 - alpha / 2, df))

    def shortfall(shift: float) -> float:
        lower = float(stats.nct.cdf(-critical, df, shift))
        # scipy gives NaN far in the lower tail; there the tail is below P(Z < -shift), which
        # bounds it (T' < 0 needs Z + shift < 0), and negligible beside the upper one.
        if math.isnan(lower) and stats.norm.cdf(-shift) < 1e-9:
            lower = 0.0
        return float(stats.nct.sf(critical, df, shift)) + lower - power

    upper = critical + float(stats.norm.ppf(power)) + 1
    while shortfall(upper) < 0:
        upper *= 2
    return se * float(optimize.brentq(shortfall, 0.0, upper, xtol=1e-10))


def detectable_effect(
    sd: float,
    units: int,
    *,
    test_train_ratio: float | None = None,
    alpha: float = ALPHA,
    power: float = POWER,
) -> float:
    """:func:`minimum_detectable_effect` of a paired test over ``units`` units whose differences
    have standard deviation ``sd`` (:func:`paired_t`'s standard error and degrees of freedom)."""
    se = sd * math.sqrt(1 / units + (test_train_ratio or 0.0))
    return minimum_detectable_effect(se, units - 1, alpha=alpha, power=power)


def detectable_limit(
    sd: float,
    *,
    test_train_ratio: float | None = None,
    alpha: float = ALPHA,
    power: float = POWER,
) -> float:
    """What :func:`detectable_effect` tends to as the units grow without end: 0 for units that
    share nothing (``test_train_ratio`` None); over random splits the standard error stays at
    least ``sd * sqrt(ratio)`` and the t test becomes a z test (infinite degrees of freedom), so
    the limit is :func:`minimum_detectable_effect` of that standard error there."""
    if not test_train_ratio:
        return 0.0
    se = sd * math.sqrt(test_train_ratio)
    return minimum_detectable_effect(se, math.inf, alpha=alpha, power=power)


def units_for_effect(
    target: float,
    sd: float,
    *,
    test_train_ratio: float | None = None,
    alpha: float = ALPHA,
    power: float = POWER,
    most: int = 100_000,
) -> int | None:
    """The fewest units (at least 2) whose paired test detects ``target`` with ``power``
    (:func:`detectable_effect` at most ``target``), given the differences' standard deviation
    ``sd`` as measured so far; None when no number up to ``most`` does, as when ``target`` is not
    above :func:`detectable_limit`.

    Raises:
        ValueError: ``target`` is not positive.
    """
    if target <= 0:
        raise ValueError(f"target={target}: expected a positive difference")
    options = {"test_train_ratio": test_train_ratio, "alpha": alpha, "power": power}
    if detectable_limit(sd, **options) >= target:
        return None

    def reached(units: int) -> bool:
        return detectable_effect(sd, units, **options) <= target

    low, high = 1, 2  # not reached at low (no test with one unit), try high
    while not reached(high):
        if high >= most:
            return None
        low, high = high, min(2 * high, most)
    while high - low > 1:  # reached at high, not at low
        middle = (low + high) // 2
        low, high = (low, middle) if reached(middle) else (middle, high)
    return high
