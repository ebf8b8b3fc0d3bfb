"""Verdict words and caveats in every language, from the language files."""

import pytest

from lmp_analytics.presentation.labels import power_caveat, rtm_caveat, verdict_label
from lmp_analytics.stats.verdict import Verdict


def test_labels_in_both_languages():
    assert verdict_label(Verdict.DECREASE) == "tydelig nedgang"
    assert verdict_label("tydelig økning", "en") == "clear increase"
    assert verdict_label(Verdict.NO_CLEAR_CHANGE, "en") == "no clear change"
    assert {v.value for v in Verdict} == {
        "tydelig nedgang",
        "ingen tydelig endring",
        "tydelig økning",
    }
    with pytest.raises(ValueError):
        verdict_label(Verdict.DECREASE, "de")


def test_caveats_exist_in_both_languages():
    assert "Ingen tydelig endring" in power_caveat("nb")
    assert "No clear change" in power_caveat("en")
    assert "regresjon mot gjennomsnittet" in rtm_caveat()
    assert "regression to the mean" in rtm_caveat("en")
