"""No statistic is fitted on a page call (issues #19 item 7, #21): the landing panel, the
programme's event study and the national designs are computed at publish time
(``mart_landing_panel``, ``mart_event_*``, ``mart_national_*``) and pages only read them.

Attack: every page, as the programme and as a municipality, runs in AppTest on the published
warehouse with the estimators patched to raise; a page that fitted would fail or show the
generic error. And the stored tables hold exactly what the live path computes."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from dash_helpers import PAGES, app, open_page, problems
from polars.testing import assert_frame_equal

from lmp_analytics import api
from lmp_analytics.evaluation import event_study, landing_panel, national_view
from lmp_analytics.evaluation import programme as programme_mod
from lmp_analytics.evaluation.national_designs import national_evaluation
from lmp_analytics.readmodels import landing
from lmp_analytics.warehouse import ddl
from lmp_analytics.warehouse.registry import TARGETS

FITS = [
    (landing_panel, "pooled_change"),
    (landing_panel, "cluster_did"),
    (programme_mod, "staggered_did"),
    (programme_mod, "twfe_contrast"),
    (national_view, "national_evaluation"),
]


@pytest.fixture
def no_fit(monkeypatch) -> list[str]:
    """Every estimator behind the stored estimates raises (and is recorded) when called; the
    dashboard's caches start empty."""
    import lmpdash.data as data

    calls: list[str] = []
    for module, name in FITS:
        def refuse(*args, _name=f"{module.__name__}.{name}", **kwargs):
            calls.append(_name)
            raise AssertionError(f"{_name} fitted on a page call")
        monkeypatch.setattr(module, name, refuse)
    data.clear_cache()
    national_view._programme_view.cache_clear()
    yield calls
    data.clear_cache()
    national_view._programme_view.cache_clear()


@pytest.mark.parametrize("which", ["program", "kommune"])
def test_no_page_fits_a_statistic(env, roster, no_fit, which):
    role = "program" if which == "program" else roster["roles"][1]
    at = app(role=role)
    for page in PAGES:
        open_page(at, page)
        assert not problems(at), (page, problems(at))
    assert no_fit == []
    # the pages did read the stored estimates: the landing panel is on Oversikt
    open_page(at, "oversikt")
    assert not problems(at)


def test_the_patch_bites_when_nothing_is_stored(env, roster, no_fit, tmp_path):
    """The attack above can fail: on a copy without the stored tables the landing panel is
    pooled on the call and the patched estimator is reached."""
    import shutil

    copy = tmp_path / "old.duckdb"
    shutil.copyfile(env["warehouse"], copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("DROP TABLE mart_landing_panel")
    with pytest.raises(AssertionError, match="fitted on a page call"):
        landing.phase_summary(role="program", warehouse=copy)
    assert no_fit


def _indicators(con) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT DISTINCT indicator FROM mart_landing_panel ORDER BY 1").fetchall()]


def test_stored_landing_panel_equals_the_live_path(env, roster):
    wh = env["warehouse"]
    with duckdb.connect(str(wh), read_only=True) as con:
        keys = [r[0] for r in con.execute(
            "SELECT DISTINCT role FROM mart_landing_panel ORDER BY 1").fetchall()]
        indicators = _indicators(con)
        threshold = api.threshold(con)
        stored = {(k, i): landing_panel.read_stored(con, role_key=k, indicator=i,
                                                    min_n=threshold)
                  for k in keys for i in indicators}
    assert "program" in keys and f"kommune:{roster['kommune']}" in keys
    assert len(indicators) >= 5
    for (key, indicator), frame in stored.items():
        assert frame is not None
        # the live path: the changes every reader gets, pooled on the call
        changes = api.compare(indicator=indicator, phase=None, role=key, warehouse=wh,
                              surface="dashboard")
        live = landing.phase_summary(indicator=indicator, role=key, warehouse=wh,
                                     changes=changes)
        assert_frame_equal(frame, live)
    # what the read model returns for the role is the stored frame
    assert_frame_equal(landing.phase_summary(role="program", warehouse=wh),
                       stored[("program", "mobbet")])
    visible = stored[("program", "mobbet")].filter(~pl.col("suppressed"))
    assert visible.height >= 1 and visible["change"].is_not_null().all()


def test_stored_event_study_and_national_designs_equal_a_fresh_fit(env):
    wh = env["warehouse"]
    with duckdb.connect(str(wh), read_only=True) as con:
        threshold = api.threshold(con)
        for indicator in _indicators(con):
            stored = event_study.read_stored(con, indicator, min_n=threshold)
            cells = api.published_cells(con, level="skole", indicators=[indicator],
                                        breakdown="alle", min_n=threshold)
            fresh = event_study.event_study_view(con, indicator, min_n=threshold, cells=cells)
            assert stored is not None
            assert_frame_equal(stored.event_study, fresh.event_study)
            assert_frame_equal(stored.summary, fresh.summary)
            assert (stored.pre_trend_p, stored.pre_trend_k, stored.warnings, stored.schools,
                    stored.treated_schools) == (fresh.pre_trend_p, fresh.pre_trend_k,
                                                fresh.warnings, fresh.schools,
                                                fresh.treated_schools)
    national_view._programme_view.cache_clear()
    view = national_view.programme_view(wh)
    fit = national_evaluation(wh, "mobbet", selection_years=national_view.selection_years_for(wh))
    assert view.results.height > 0
    assert_frame_equal(view.results, fit.results)
    assert_frame_equal(view.event_study, fit.event_study)
    # the notes (the warning as data, read in the reader's language) survive the storing
    def sentences(notes):  # the fit's floats may differ in the last bit between two fits
        return {row: [n.english() for n in v] for row, v in notes.items()}

    assert sentences(view.notes) == sentences(fit.notes) and any(fit.notes.values())
    assert {r: [n.key for n in v] for r, v in view.notes.items()} == \
        {r: [n.key for n in v] for r, v in fit.notes.items()}
    with duckdb.connect(str(wh), read_only=True) as con:
        for table in TARGETS["national_estimates"].tables:
            assert ddl.columns_of(con, table) == ddl.declared(table), table


def test_a_stricter_reader_never_gets_the_stored_estimates(env):
    """Stored at the warehouse's threshold: a reader with a higher one computes anew (privacy:
    nothing suppressed at a lower threshold reaches it)."""
    with duckdb.connect(str(env["warehouse"]), read_only=True) as con:
        threshold = api.threshold(con)
        assert landing_panel.read_stored(con, role_key="program", indicator="mobbet",
                                         min_n=threshold) is not None
        assert landing_panel.read_stored(con, role_key="program", indicator="mobbet",
                                         min_n=threshold + 5) is None
        assert event_study.read_stored(con, "mobbet", min_n=threshold + 5) is None
