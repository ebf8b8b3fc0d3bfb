"""Strings as data: every language has every key, every test id has a name, and the dashboard
and the school report format a number with the same function."""

from __future__ import annotations

import importlib
import math
import re
import string
import sys
import tomllib
from pathlib import Path

import pytest

from lmp_analytics.presentation import fmt, labels, strings

ROOT = Path(__file__).resolve().parents[2]
STRINGS = ROOT / "lmp_analytics" / "presentation" / "strings"


def _keys(lang_file: Path) -> dict[str, str]:
    return strings._flatten(tomllib.loads(lang_file.read_text("utf-8")))


def _fields(s: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(s) if f}


def test_every_language_file_has_every_key_and_the_same_placeholders():
    files = sorted(STRINGS.glob("*.toml"))
    assert {f.stem for f in files} == set(strings.LANGS)
    reference = _keys(files[0])
    for f in files[1:]:
        other = _keys(f)
        assert set(other) == set(reference), (
            f"{f.name}: missing {sorted(set(reference) - set(other))}, "
            f"extra {sorted(set(other) - set(reference))}")
        for key, text in reference.items():
            assert _fields(other[key]) == _fields(text), f"{f.name}: {key} placeholders differ"
            assert other[key].strip(), f"{f.name}: {key} is empty"


def test_a_missing_key_in_one_language_is_caught(tmp_path):
    broken = {k: v for k, v in _keys(STRINGS / "en.toml").items() if k != "test.boschloo"}
    assert set(broken) != set(_keys(STRINGS / "nb.toml"))


def _test_ids_in_source() -> set[str]:
    """Every test id the statistics and change tables can return (what api.compare reports)."""
    found: set[str] = set()
    for rel in ("lmp_analytics/stats/unlinked.py", "lmp_analytics/stats/change.py",
                "lmp_analytics/stats/linked.py", "lmp_analytics/evaluation/change_table.py"):
        path = ROOT / rel
        if not path.exists():
            continue
        src = path.read_text("utf-8")
        found |= set(re.findall(r'TestResult\(\s*"(\w+)"', src))
        found |= set(re.findall(r'test="(\w+)"', src))
        found |= set(re.findall(r'^\w+_TEST = "(\w+)"', src, flags=re.M))
        for a, b in re.findall(r'np\.where\([^()]*,\s*"(\w*)",\s*"(\w*)"\)', src):
            found |= {a, b}
    found.discard("")
    return found


def test_every_test_id_has_a_name_in_every_language():
    ids = _test_ids_in_source()
    assert {"score_z", "boschloo", "overlap_score_z", "mover_inversion", "welch_t"} <= ids, ids
    assert ids <= set(labels.TEST_IDS), f"test ids without a label: {ids - set(labels.TEST_IDS)}"
    for lang in strings.LANGS:
        for test in labels.TEST_IDS:
            assert labels.test_name(test, lang) not in ("", test)


@pytest.fixture
def i18n():
    sys.path.insert(0, str(ROOT / "dashboards"))
    try:
        from lmpdash import i18n
        yield i18n
    finally:
        sys.path.remove(str(ROOT / "dashboards"))


@pytest.mark.parametrize("lang", strings.LANGS)
def test_dashboard_names_every_test_the_report_names(i18n, lang):
    for test in ("score_z", "boschloo", "mcnemar_midp", *labels.TEST_IDS):
        assert i18n.test_label(test, lang) == labels.test_name(test, lang) != test


VALUES = [0.0, 0.0004, -0.0214, 0.1234, 0.5, 0.99949, -0.13, 3.996, 1234.5, math.nan, None]


@pytest.mark.parametrize("lang", strings.LANGS)
def test_dashboard_and_report_write_a_number_the_same_way(i18n, lang):
    render = importlib.import_module("lmp_analytics.reports.render")
    assert render.fmt is fmt  # the report formats through the package module
    for x in VALUES:
        missing = x is None or math.isnan(x)
        dash = i18n.DASH if missing else None
        assert i18n.fmt_pct(x, lang) == (dash or fmt.percent(x, lang))
        assert i18n.fmt_pp(x, lang) == (dash or fmt.points(x, lang))
        assert i18n.fmt_mean(x, lang) == (dash or fmt.mean(x, lang))
        assert i18n.fmt_num(x, lang, 1) == (dash or fmt.number(x, lang, 1))
        assert i18n.fmt_p(x, lang) == (dash or fmt.p_value(x, lang))
        for kind in ("share", "scale"):
            assert i18n.fmt_value(x, kind, lang) == (dash or fmt.value(x, kind, lang))
            assert i18n.fmt_change(x, kind, lang) == (dash or fmt.change(x, kind, lang))


def test_percentage_points_and_p_values_read_alike_everywhere(i18n):
    assert i18n.fmt_pp(-0.021, "nb") == "\u22122,1\u00a0p.p." == fmt.points(-0.021, "nb")
    assert i18n.fmt_p(0.0004, "nb") == "<\u00a00,001" == fmt.p_value(0.0004, "nb")
    assert i18n.fmt_p(0.81, "nb") == "0,81"
    assert i18n.p_phrase(0.0551, "en") == "p = 0.055"


def test_every_quarantine_reason_has_a_label_in_every_language():
    from lmp_analytics.ingest import reasons

    for lang in strings.LANGS:
        assert set(reasons.CODES) == set(strings.section("reason", lang))
        for code in reasons.CODES:
            assert reasons.label(code, lang) not in ("", code)


def test_an_empty_value_or_a_missing_key_in_nynorsk_is_caught(tmp_path, monkeypatch):
    """The key check above catches a broken nn.toml (run on a damaged copy of the folder)."""
    good = (STRINGS / "nn.toml").read_text("utf-8")
    for broken in (good.replace('sk_title = "Skule"\n', ""),
                   good.replace('sk_title = "Skule"', 'sk_title = " "')):
        copy = tmp_path / "strings"
        copy.mkdir(exist_ok=True)
        for f in STRINGS.glob("*.toml"):
            (copy / f.name).write_text(f.read_text("utf-8"), "utf-8")
        (copy / "nn.toml").write_text(broken, "utf-8")
        monkeypatch.setattr(sys.modules[__name__], "STRINGS", copy)
        with pytest.raises(AssertionError):
            test_every_language_file_has_every_key_and_the_same_placeholders()
        monkeypatch.undo()


# Språkrådet's school vocabulary in nynorsk (Nynorskordboka; see reference/SOURCES.md)
NN_TERMS = {
    "dashboard.page_skole": "Skule",
    "dashboard.ov_headline_nat": "Nasjonalt (Elevundersøkinga)",
    "dashboard.sammenligning": "Samanlikningsskular",
    "dashboard.autumn": "Haust",
    "report.title": "Skulerapport",
    "report.not_tested": "ikkje testa",
    "verdict.no_clear_change": "inga tydeleg endring",
}
BOKMAL_ONLY = re.compile(r"\b(ikke|skole|skoler|skolen|elever|hvor|hva|mobbet|sammenlign\w*|"
                         r"høst|noen|mye|gjennom\w*føres|bare|fra)\b", re.IGNORECASE)


def test_nynorsk_uses_the_school_vocabulary_and_no_bokmal_only_words():
    nn = strings.strings("nn")
    for key, want in NN_TERMS.items():
        assert nn[key] == want, key
    # a code span is a value the user types as it is (`skole`, `mobbet`), not a word
    offenders = {k: v for k, v in nn.items() if BOKMAL_ONLY.search(re.sub(r"`[^`]*`", " ", v))}
    assert not offenders, offenders


def test_nynorsk_is_a_language_every_chooser_accepts(i18n):
    from lmp_analytics.choices import choose
    from lmp_analytics.codebook import load_codebooks
    from lmp_analytics.readmodels.catalogue import indicator_catalogue

    assert "nn" in strings.LANGS and "nn" in i18n.LANGS
    assert choose("--lang", "nynorsk", strings.LANGS) == "nn"
    assert choose("--lang", "NN", strings.LANGS) == "nn"
    assert i18n.t("page_skole", "nn") == "Skule" != i18n.t("page_skole", "nb")
    assert i18n.lang_name("nn") == "Norsk (nynorsk)"
    assert i18n.picker_label() == "Språk / Language"
    assert indicator_catalogue()["klasseledelse"].label("nn") == "Klasseleiing"
    for book in load_codebooks().values():
        for ind in book.indicators.values():
            assert ind.label("nn") and ind.label("nn") != ind.label("en")
