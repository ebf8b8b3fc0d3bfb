"""Number formatting of every surface: bokmål "12,3 %", English "12.3%"."""

from __future__ import annotations

import pytest

from lmp_analytics.presentation import fmt, labels

NB = "\u00a0"


@pytest.mark.parametrize(
    ("func", "args", "nb", "en"),
    [
        (fmt.percent, (0.1234,), f"12,3{NB}%", "12.3%"),
        (fmt.percent, (0.0,), f"0,0{NB}%", "0.0%"),
        (fmt.points, (-0.0214,), f"\u22122,1{NB}p.p.", f"\u22122.1{NB}pp"),
        (fmt.points, (0.0004,), f"0,0{NB}p.p.", f"0.0{NB}pp"),
        (fmt.points, (0.014,), f"+1,4{NB}p.p.", f"+1.4{NB}pp"),
        (fmt.integer, (1234,), f"1{NB}234", "1,234"),
        (fmt.p_value, (0.0004,), f"<{NB}0,001", f"<{NB}0.001"),
        (fmt.p_value, (0.0412,), "0,041", "0.041"),
        (fmt.p_value, (0.81,), "0,81", "0.81"),
    ],
)
def test_formats(func, args, nb, en):
    assert func(*args, "nb") == nb
    assert func(*args, "en") == en


def test_intervals_and_values():
    assert fmt.interval(0.017, 0.107, "nb") == "1,7\u201310,7"
    assert fmt.interval(-0.077, 0.063, "en", change=True) == "\u22127.7\u2013+6.3"
    assert fmt.interval(3.82, 4.18, "nb", kind="scale") == "3,82\u20134,18"
    assert fmt.value(3.996, "scale", "nb") == "4,00"
    assert fmt.change(-0.13, "scale", "en") == "\u22120.13"
    assert fmt.percent(None, "nb") == "" and fmt.interval(None, 1.0, "nb") == ""


def test_unknown_language_is_refused():
    with pytest.raises(ValueError):
        fmt.check_lang("de")


def test_test_names_cover_every_test_the_stats_package_reports():
    for test in ("overlap_score_z", "score_z", "boschloo", "mcnemar_midp",
                 "wilcoxon_signed_rank", "mann_whitney"):
        assert labels.test_name(test, "nb") != test and labels.test_name(test, "en") != test
