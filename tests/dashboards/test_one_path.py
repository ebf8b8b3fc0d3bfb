"""One suppression path and one role scope on the read side, attacked on a real warehouse:
changes go through the engine's change rule (reason ``derived``), no hidden school cell is
worked out from a visible change, and group (class) rows never reach a dashboard."""

from __future__ import annotations

import polars as pl
import pytest

from lmp_analytics import api
from lmp_analytics.privacy.scope import SURFACES, scope

STRICT = 110  # a stricter reader's threshold: hides about half the test world's school cells


@pytest.mark.parametrize("phase", ["runde", "program"])
def test_no_hidden_school_cell_is_worked_out_from_a_visible_change(world, phase):
    changes = api.compare(indicator="mobbet", phase=phase, warehouse=world.warehouse,
                          min_n=STRICT)
    cells = api.indicators("skole", indicator="mobbet", warehouse=world.warehouse,
                           min_n=STRICT)
    shown = dict(cells.filter(~pl.col("suppressed")).select("round", "share").iter_rows())
    hidden = set(cells.filter(pl.col("suppressed"))["round"])
    assert hidden, "the stricter threshold hides school cells"
    visible = changes.filter(~pl.col("suppressed"))
    recovered = [
        r for r in visible.iter_rows(named=True)
        if (r["pre_round"] in hidden) != (r["post_round"] in hidden)
    ]
    assert recovered == []
    for r in visible.iter_rows(named=True):  # a visible change is the difference of visible cells
        assert r["post_value"] - r["pre_value"] == pytest.approx(r["diff_pp"])
        assert r["pre_value"] == pytest.approx(shown[r["pre_round"]])
    hidden_changes = changes.filter(pl.col("suppressed"))
    assert hidden_changes.height
    assert set(hidden_changes["suppression_reason"]) == {"derived"}  # the engine's own reason
    for col in ("diff_pp", "pre_value", "post_value", "p_value", "verdict", "pre_n"):
        assert hidden_changes[col].null_count() == hidden_changes.height, col


def test_group_rows_never_reach_a_dashboard(world):
    groups = api.indicators("gruppe", indicator="mobbet", role="forsker",
                            warehouse=world.warehouse, surface="notebook")
    assert groups.height and groups["gruppe"].drop_nulls().len()
    with pytest.raises(PermissionError):
        api.indicators("gruppe", indicator="mobbet", role="forsker",
                       warehouse=world.warehouse, surface="dashboard")
    assert scope(groups, "forsker", "dashboard").height == 0
    assert scope(groups, "forsker", "notebook").height == groups.height
    with pytest.raises(ValueError, match="surface"):
        scope(groups, "forsker", "web")
    assert set(SURFACES) == {"cli", "dashboard", "report", "export", "notebook"}
