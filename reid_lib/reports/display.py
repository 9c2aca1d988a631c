"""How the book shows a table: a sensible precision, a dash for a missing value, mean ± interval.

The report functions return plain numbers (so that a reader can compute with them); a chapter
displays them through :func:`styled`, which never shows ``NaN`` or six decimals.
"""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler

from reid_lib.reports.ablation import CI_SUFFIX

#: What a table shows for a missing value.
MISSING = "–"
#: The smallest p-value a table writes out; smaller ones show as ``< 0.001``.
SMALLEST_P = 0.001
#: The columns of a difference and its 95% confidence interval (``reid_lib.reports.verdicts``),
#: which a table shows as one: ``6.3 [2.1, 10.5]``.
DIFFERENCE, CI_LOW, CI_HIGH = "difference", "95% CI low", "95% CI high"


def p_value_text(p: float) -> str:
    """A p-value as the book shows it: three decimals, ``< 0.001`` below that, :data:`MISSING`
    for NaN."""
    if pd.isna(p):
        return MISSING
    return f"< {SMALLEST_P}" if p < SMALLEST_P else f"{p:.3f}"


def is_p_value(column: object) -> bool:
    """Whether a column holds p-values: ``p``, or a name that ends in `` p`` (``Holm p``)."""
    return isinstance(column, str) and (column == "p" or column.endswith(" p"))


def _mean_with_interval(mean: float, half: float, precision: int) -> str:
    if pd.isna(mean):
        return MISSING
    if pd.isna(half):
        return f"{mean:.{precision}f}"
    return f"{mean:.{precision}f} ± {half:.{precision}f}"


def _difference_with_interval(value: float, low: float, high: float, precision: int) -> str:
    if pd.isna(value):
        return MISSING
    if pd.isna(low) or pd.isna(high):
        return f"{value:.{precision}f}"
    return f"{value:.{precision}f} [{low:.{precision}f}, {high:.{precision}f}]"


def _merged(out: pd.DataFrame, columns: list[str], name: str, text: list[str]) -> pd.DataFrame:
    """``out`` with ``columns`` replaced by one column ``name`` holding ``text``, where the first
    of them stood."""
    position = out.columns.get_loc(columns[0])
    merged = out.drop(columns=columns)
    merged.insert(position, name, text)
    return merged


def with_intervals(table: pd.DataFrame, precision: int = 1) -> pd.DataFrame:
    """``table`` with each pair of columns ``<m> mean`` and ``<m> ci95`` merged into one text
    column ``<m> (mean ± 95% CI)``, and the columns :data:`DIFFERENCE`, :data:`CI_LOW` and
    :data:`CI_HIGH` into one, ``difference [95% CI]``; a value without an interval shows alone."""
    out = table.copy()
    if {DIFFERENCE, CI_LOW, CI_HIGH} <= set(table.columns):
        text = [
            _difference_with_interval(v, lo, hi, precision)
            for v, lo, hi in zip(table[DIFFERENCE], table[CI_LOW], table[CI_HIGH], strict=True)
        ]
        out = _merged(out, [DIFFERENCE, CI_LOW, CI_HIGH], f"{DIFFERENCE} [95% CI]", text)
    for column in table.columns:
        if not (isinstance(column, str) and column.endswith(" mean")):
            continue
        metric = column.removesuffix(" mean")
        half = f"{metric} {CI_SUFFIX}"
        if half not in table.columns:
            continue
        text = [
            _mean_with_interval(m, h, precision)
            for m, h in zip(table[column], table[half], strict=True)
        ]
        out = _merged(out, [column, half], f"{metric} (mean ± 95% CI)", text)
    return out


def styled(table: pd.DataFrame, precision: int = 1) -> Styler:
    """``table`` as the book shows it: numbers at ``precision`` decimals with thousands
    separated, :data:`MISSING` for a missing value, means merged with their intervals
    (:func:`with_intervals`), no negative zero, and no index when the index is only a line
    number. P-values (:func:`is_p_value`) keep three decimals (:func:`p_value_text`)."""
    shown = with_intervals(table, precision)
    for column in filter(is_p_value, shown.columns):
        shown[column] = [p_value_text(p) for p in shown[column]]
    floats = shown.select_dtypes("float").columns
    shown[floats] = shown[floats].round(precision) + 0.0  # -0.04 shows as 0.0, not -0.0
    styler = shown.style.format(precision=precision, na_rep=MISSING, thousands=",")
    if shown.index.name is None and pd.api.types.is_integer_dtype(shown.index):
        styler = styler.hide(axis="index")
    return styler
