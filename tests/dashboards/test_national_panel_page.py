"""The national-panel section of Sammenligning (AppTest): the programme sees the designs with
the numbers of ``national_view`` (fitted once per warehouse file), a municipality sees only its
own LMP schools by name against one unnamed group of eligible non-participants."""

from __future__ import annotations

import re

import polars as pl
from dash_helpers import all_tables, app, dataframes, open_page, problems

from lmp_analytics.evaluation import national_view
from lmp_analytics.evaluation.national_panel import lmp_treatment


def test_programme_sees_the_designs_with_the_views_numbers(env, roster):
    at = app(role="program")
    open_page(at, "sammenligning")
    assert not problems(at)
    view = national_view.programme_view(env["warehouse"])
    tables = [f for f in all_tables(at) if "Sammenligning" in f.columns]
    assert tables, "no designs table on the page"
    shown = tables[0]
    assert "Skoler som oppfylte utvalgskriteriet, men ikke ble med" in set(shown["Sammenligning"])
    assert len(shown) == view.results.height
    estimates = sorted(round(v * 100, 2) for v in view.results["estimate_pp"].drop_nulls())
    number = re.compile(r"[-\u2212]?\d+[.,]\d+")
    on_page = sorted(float(m.group(0).replace(",", ".").replace("\u2212", "-"))
                     for v in shown["Virkning (prosentpoeng)"] if (m := number.search(str(v))))
    assert len(on_page) == len(estimates)
    assert all(abs(a - b) <= 0.051 for a, b in zip(on_page, estimates, strict=True)), (
        str(on_page), str(estimates))  # one decimal on the page
    eligible = view.results.filter((pl.col("design") == "eligible")
                                   & (pl.col("trinn") == "pooled"))
    assert eligible["estimate_pp"].is_not_null().all() and eligible["n_comparison_schools"][0] > 0
    assert any("regresjon mot gjennomsnittet" in m.value for m in at.warning)


def test_municipality_sees_only_its_own_lmp_schools_by_name(env, roster):
    kommune = roster["roles"][1]
    at = app(role=kommune)
    open_page(at, "sammenligning")
    assert not problems(at)
    number = kommune.split(":")[1]
    own = lmp_treatment(env["warehouse"]).filter(pl.col("kommunenummer") == number)
    schools = roster["schools"]
    own_names = set(schools.filter(pl.col("skole_orgnr").is_in(own["skole_orgnr"].implode()))
                    ["skole"])
    tables = [f for f in dataframes(at) if "Skole" in f.columns and "Mobbet (prosent)" in f.columns]
    assert tables, "no own-schools table on the page"
    series = set(tables[0]["Skole"])
    assert series - own_names == {"Sammenlignbare skoler (landet)"}, series - own_names


def test_the_designs_notes_are_in_the_readers_language(env, roster):
    """The notes under the designs (the core's English ``warning`` column) are shown from the
    language files: in nynorsk the segment and the naive design's caution read in nynorsk, and
    no known note is shown as English code."""
    from tests.nynorsk_words import offending

    view = national_view.programme_view(env["warehouse"])
    english = {n.english() for notes in view.notes.values() for n in notes
               if n.key != "estimator"}
    assert any(e.startswith("Series segment") for e in english), english
    at = app(role="program", lang="nn")
    open_page(at, "sammenligning")
    assert not problems(at)
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Seriesegment ") for c in captions), captions
    assert any("skeiv på grunn av regresjon mot gjennomsnittet" in c for c in captions)
    shown = " ".join(captions)
    assert not [e for e in english if e in shown], "a known note shown in English"
    hits = {h for c in captions for h in offending(c)}
    assert not hits, hits
