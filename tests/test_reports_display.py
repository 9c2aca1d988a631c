"""How a table is shown: means with their intervals, no NaN, a sensible precision."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from reid_lib.reports import MISSING, styled, with_intervals
from reid_lib.reports.intervals import mean_half_width


def test_mean_half_width_is_the_t_interval_by_hand():
    # 1, 2, 3: sd 1, t(0.975, 2) = 4.302653, over sqrt(3).
    assert mean_half_width([1.0, 2.0, 3.0]) == pytest.approx(4.302653 / 3**0.5, rel=1e-6)
    assert mean_half_width([5.0, 5.0]) == 0.0
    assert math.isnan(mean_half_width([5.0]))


def test_means_and_intervals_merge_into_one_column():
    table = pd.DataFrame(
        {
            "row": ["full", "scratch", "pcb"],
            "runs": [5, 1, 0],
            "mAP mean": [43.44, 23.8, math.nan],
            "mAP ci95": [1.849, math.nan, math.nan],
        }
    )
    shown = with_intervals(table)
    assert list(shown.columns) == ["row", "runs", "mAP (mean ± 95% CI)"]
    assert list(shown["mAP (mean ± 95% CI)"]) == ["43.4 ± 1.8", "23.8", MISSING]


def test_a_difference_and_its_interval_merge_into_one_column_and_the_raw_verdict_goes():
    from reid_lib.reports import verdict_view

    lines = pd.DataFrame(
        {
            "comparison": ["nl > baseline", "pcb > hpm", "x > y"],
            "difference": [0.64, 6.3, math.nan],
            "95% CI low": [-3.84, math.nan, math.nan],
            "95% CI high": [5.06, math.nan, math.nan],
            "verdict": ["no clear difference", "one run: cannot judge", "not run"],
            "p": [0.727, math.nan, math.nan],
            "Holm p": [1.0, math.nan, math.nan],
        }
    )
    shown = with_intervals(verdict_view(lines))
    assert list(shown.columns) == ["comparison", "difference [95% CI]", "Holm p"]
    assert list(shown["difference [95% CI]"]) == ["0.6 [-3.8, 5.1]", "6.3", MISSING]


def test_styled_shows_no_nan_no_long_decimals_and_no_line_numbers():
    table = pd.DataFrame({"metric": ["rank1", "mAP"], "value": [13.847351, math.nan]})
    html = styled(table).to_html()
    assert "13.8<" in html and "13.847" not in html
    assert "nan" not in html.lower() and f">{MISSING}<" in html
    assert ">0<" not in html, "a RangeIndex is hidden"
    filtered = styled(pd.concat([table] * 3, ignore_index=True).iloc[[1, 4, 5]]).to_html()
    assert ">4<" not in filtered, "so are the line numbers left after a filter"
    named = styled(table.set_index("metric"), precision=2).to_html()
    assert ">rank1<" in named and "13.85<" in named


def test_styled_shows_a_value_that_rounds_to_zero_without_a_minus_sign():
    table = pd.DataFrame({"difference": [-0.04, -0.06, 0.04], "runs": [5, 5, 5]})
    html = styled(table).to_html()
    assert ">-0.0<" not in html
    assert html.count(">0.0<") == 2 and ">-0.1<" in html
    assert table["difference"].iloc[0] == -0.04, "the caller's table is left as it was"


def test_gpu_run_times_multiply_the_measured_epoch_by_the_profiles_epochs(tmp_path):
    import json

    from reid_lib.reports import gpu_run_times

    assert gpu_run_times(tmp_path, 40).empty, "no measurement, no line"
    record = {
        "device": "Tesla T4",
        "amp": "torch.float16",
        "commit": "0123456789abcdef",
        "written_at": "2026-12-02T06:00:00+00:00",
        "profile_epochs": {"s/epoch": 12.0},
    }
    (tmp_path / "gpu_check-tesla-t4.json").write_text(json.dumps(record))
    (line,) = gpu_run_times(tmp_path, 40).to_dict("records")
    assert (line["GPU"], line["AMP"], line["minutes per run"]) == ("Tesla T4", "float16", 8.0)
    assert (line["commit"], line["measured"]) == ("0123456789", "2026-12-02")


def test_p_values_keep_three_decimals_whatever_the_tables_precision():
    table = pd.DataFrame(
        {"difference": [1.234, 2.0], "p": [0.0312, 0.0004], "Holm p": [0.09, None]}
    )
    html = styled(table).to_html()
    assert "0.031" in html and "< 0.001" in html and "0.090" in html and "1.2" in html
    assert "0.0312" not in html and "nan" not in html.lower()
