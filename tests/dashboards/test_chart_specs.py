"""Every chart goes through one function (``lmpdash.charts.show_chart``): its Vega-Lite spec is
made without Altair's jsonschema validation and cached by content (issue #21). What the pages
used to get from ``st.altair_chart`` is checked here instead: every spec the pages produce, for
every role and both languages, is validated against Altair's Vega-Lite schema and is the same
spec (data included) the old path made, and the cache never answers one content with another's.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import altair as alt
import polars as pl
import pytest
from altair.utils.schemapi import SchemaValidationError
from dash_helpers import PAGES, app, charts, open_page, problems
from lmpdash import charts as lmp_charts
from lmpdash import specs as lmp_specs
from lmpdash.i18n import vega_locale
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
CHART_PAGES = ("oversikt", "skole", "faser", "sammenligning", "datakvalitet")


def _old_configure(chart, lang: str):
    """What ``charts.configure`` did before the spec cache (Altair's configure chain)."""
    return chart.configure(locale=vega_locale(lang)).configure_axis(
        labelFontSize=12, titleFontSize=12, labelLimit=220,
    ).configure_legend(labelFontSize=12, titleFontSize=12, orient="bottom", labelLimit=320)


def _validated_old_spec(chart: lmp_specs.ChartSpec, lang: str) -> dict:
    """The spec ``st.altair_chart(charts.configure(chart, lang))`` made: Streamlit's own
    conversion with Altair's validation (raises SchemaValidationError on an invalid spec)."""
    return _convert_altair_to_vega_lite_spec(_old_configure(chart.build(), lang))


@pytest.fixture
def recorded(monkeypatch) -> list[tuple[lmp_specs.ChartSpec, str, dict]]:
    """Every (chart, lang, spec) the page runs ask :func:`lmpdash.charts.vega_lite_spec` for."""
    calls: list[tuple[lmp_specs.ChartSpec, str, dict]] = []
    original = lmp_charts.vega_lite_spec

    def recorder(chart, lang):
        spec = original(chart, lang)
        calls.append((chart, lang, spec))
        return spec

    monkeypatch.setattr(lmp_charts, "vega_lite_spec", recorder)
    lmp_specs.clear_spec_cache()
    return calls


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_every_chart_spec_is_valid_and_the_same_as_altair_chart_made(env, roster, recorded,
                                                                     lang):
    seen_builders = set()
    for role in roster["roles"]:
        at = app(role=role, lang=lang)
        at.run()
        at._lmp_started = True  # type: ignore[attr-defined]
        for page in CHART_PAGES:
            before = len(recorded)
            open_page(at, page)
            assert not problems(at), (role, page, problems(at))
            # every chart element of the page came through vega_lite_spec
            assert len(charts(at)) == len(recorded) - before, (role, page)
    assert recorded
    for chart, chart_lang, spec in recorded:
        seen_builders.add(chart.builder.__name__)
        old = _validated_old_spec(chart, chart_lang)          # validated against the schema
        assert spec == old, chart.builder.__name__
        # and the spec alone (as the browser gets it) validates too
        alt.Chart.from_dict({k: v for k, v in spec.items() if k != "datasets"}, validate=True)
    # every builder of charts.py is drawn by some page in the test world (none goes unchecked)
    builders = {name for name, f in vars(lmp_charts).items() if hasattr(f, "altair")}
    assert len(builders) >= 13 and seen_builders == builders, builders - seen_builders


def test_validation_in_this_test_catches_an_invalid_chart():
    """The check above can fail: a chart Vega-Lite rejects raises in the old, validated path
    (and would be drawn by the new one without a word, which is why the test exists)."""
    frame = pl.DataFrame({"x": ["a"], "value": [1.0]})
    bad = lmp_specs.ChartSpec(
        lambda f: alt.Chart(f).mark_bar().encode(x={"field": "x", "type": "nominalish"}),
        (frame,), {})
    with pytest.raises(SchemaValidationError):
        _validated_old_spec(bad, "nb")
    lmp_charts.vega_lite_spec(bad, "nb")   # unvalidated: no error


def test_the_cache_answers_only_the_same_content():
    """Equal inputs share a spec; any difference in a value, a column name or type, the row
    order, an argument or the language gives another spec (a role's cut never meets another
    role's numbers: they differ in content)."""
    lmp_specs.clear_spec_cache()
    frame = pl.DataFrame({"label": ["Brekke skole", "Furuly skole"], "value": [0.12, 0.3],
                          "tooltip": ["12 %", "30 %"]})

    def spec(f, lang="nb", **kw):
        out = lmp_charts.vega_lite_spec(lmp_charts.bar_chart(
            f, lang=lang, x_title=kw.get("x_title", "Andel"), y_title="Skole"), lang)
        return json.dumps(out["datasets"], default=lambda b: b.hex()), out

    base, whole = spec(frame)
    assert spec(frame.clone())[0] == base
    assert spec(pl.DataFrame(frame.to_dict(as_series=False)))[0] == base
    variants = [
        frame.with_columns(pl.Series("value", [0.12, 0.31])),
        frame.with_columns(pl.Series("label", ["Brekke skole", "Gamle skole"])),
        frame.reverse(),
        frame.rename({"tooltip": "tip"}).with_columns(pl.col("tip").alias("tooltip")),
        frame.with_columns(pl.col("value").cast(pl.Float32)),
        frame.head(1),
    ]
    for other in variants:
        assert spec(other)[0] != base, other
    assert spec(frame, lang="en")[1]["config"]["locale"] != whole["config"]["locale"]
    assert spec(frame, x_title="Share")[1] != whole
    # a null is not an empty string, a missing value not a zero
    nulls = pl.DataFrame({"label": ["a", None], "value": [0.0, None], "tooltip": ["", None]})
    empties = pl.DataFrame({"label": ["a", ""], "value": [0.0, 0.0], "tooltip": ["", ""]})
    assert spec(nulls)[0] != spec(empties)[0]


def test_a_cached_spec_is_handed_out_as_a_copy():
    """Streamlit adjusts the spec it is given (autosize, legend titles): the cached one stays
    as built."""
    lmp_specs.clear_spec_cache()
    frame = pl.DataFrame({"label": ["a"], "value": [0.5], "tooltip": ["50 %"]})
    chart = lmp_charts.bar_chart(frame, lang="nb", x_title="x", y_title="y")
    first = lmp_charts.vega_lite_spec(chart, "nb")
    first["encoding"]["y"]["title"] = "changed"
    first["autosize"] = {"type": "pad"}
    again = lmp_charts.vega_lite_spec(chart, "nb")
    assert again["encoding"]["y"]["title"] == "y" and "autosize" not in again


def test_an_argument_without_a_fingerprint_is_refused():
    """A builder argument the key cannot describe (say a pandas frame) raises instead of
    being cached under a key that leaves it out."""
    import pandas as pd

    chart = lmp_charts.bar_chart(pd.DataFrame({"label": ["a"], "value": [1.0]}), lang="nb",
                                 x_title="x", y_title="y")
    with pytest.raises(TypeError, match="fingerprint"):
        lmp_charts.vega_lite_spec(chart, "nb")


def test_no_page_draws_a_chart_around_show_chart():
    """Pages and page helpers build no Altair chart and call no st.altair_chart /
    st.vega_lite_chart: every chart goes through a builder of lmpdash/charts.py and
    show_chart (so through the content cache of lmpdash/specs.py and the spec check above)."""
    offenders = []
    files = [DASHBOARDS / "app.py", *sorted((DASHBOARDS / "app_pages").glob("*.py")),
             *sorted((DASHBOARDS / "lmpdash").glob("*.py"))]
    assert len(files) > len(PAGES)
    for path in files:
        if path.name in ("charts.py", "specs.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                if any(n == "altair" or n.startswith("altair.") for n in names):
                    offenders.append(f"{path.name}:{node.lineno} imports altair")
            if isinstance(node, ast.Attribute) and node.attr in ("altair_chart",
                                                                 "vega_lite_chart"):
                offenders.append(f"{path.name}:{node.lineno} {node.attr}")
    assert not offenders, offenders


def test_the_cache_keeps_to_its_bounds(monkeypatch):
    """Least recently used entries go once there are too many or they hold too many bytes;
    a recently used one stays."""
    lmp_specs.clear_spec_cache()
    monkeypatch.setattr(lmp_specs, "SPEC_CACHE_ENTRIES", 3)
    frames = [pl.DataFrame({"label": [f"s{i}"], "value": [float(i)], "tooltip": [str(i)]})
              for i in range(5)]
    built = []
    original = lmp_specs.altair_spec
    monkeypatch.setattr(lmp_specs, "altair_spec",
                        lambda chart: built.append(1) or original(chart))

    def draw(i: int) -> None:
        lmp_charts.vega_lite_spec(lmp_charts.bar_chart(frames[i], lang="nb", x_title="x",
                                                       y_title="y"), "nb")

    for i in (0, 1, 2, 0, 3):      # 0 used again before 3 comes: 1 is the oldest and goes
        draw(i)
    assert len(built) == 4 and len(lmp_specs._specs) == 3
    draw(0)
    draw(2)
    assert len(built) == 4          # both still there
    draw(1)
    assert len(built) == 5          # 1 had gone
    monkeypatch.setattr(lmp_specs, "SPEC_CACHE_BYTES", 1)
    draw(4)
    assert len(lmp_specs._specs) == 1   # over the byte budget: only the newest stays
    assert lmp_specs._specs_bytes == sum(size for _, size in lmp_specs._specs.values())


def _tables_old_and_new():
    """An AppTest script: each table drawn the old way (polars / pandas frame to Streamlit)
    and through show_table's cached Arrow tables, one after the other."""
    import pandas as pd
    import polars as pl
    import streamlit as st
    from lmpdash import charts

    table = charts.Table(pl.DataFrame({
        "Skole": ["Brekke skole", "Furuly skole", "Gamle skole"],
        "Verdi": [12.345678, None, 30.0], "n": [25, 8, None],
        "Skjult": [False, True, False]}), {"Verdi": "pctv", "n": "int"}, hidden="Skjult")
    for lang in ("nb", "en"):
        st.dataframe(table.display(lang), hide_index=True, key=f"old_{lang}")
        charts.show_table(table, lang, key=f"new_{lang}", file_name="x")
        shown = pd.DataFrame(table.display(lang).to_dict(as_series=False))
        st.table(shown.set_index(table.frame.columns[0]))
        charts.show_table(table, lang, key=f"new_static_{lang}", file_name="x", static=True)


def test_tables_send_the_same_bytes_as_before():
    """st.dataframe and st.table get the cached Arrow tables: the elements (data bytes, index
    shown or hidden, column settings) are the ones the polars and pandas frames made."""
    from streamlit.testing.v1 import AppTest

    lmp_specs.clear_spec_cache()
    for _ in range(2):                      # the second run answers from the cache
        at = AppTest.from_function(_tables_old_and_new, default_timeout=60).run()
        assert not at.exception
        protos = [e.proto for e in at.main if type(getattr(e, "proto", None)).__name__
                  in ("Dataframe", "Table")]
        assert [type(p).__name__ for p in protos] == ["Dataframe"] * 2 + ["Table"] * 2 \
            + ["Dataframe"] * 2 + ["Table"] * 2
        for old, new in zip(protos[0::2], protos[1::2], strict=True):
            assert old.SerializeToString() == new.SerializeToString()
            assert len(old.SerializeToString()) > 500   # the data is in it
