"""Numbers derived from published cells (changes, DiD) go through the engine's change rule
(:func:`lmp_analytics.privacy.derived.suppress_derived`): attacked by working a hidden level
out of a visible level and a visible change."""

from __future__ import annotations

import polars as pl
import pytest

from lmp_analytics.privacy.derived import Level, suppress_derived

T = 10


def _changes() -> pl.DataFrame:
    """Per school: pre/post respondents, whether the publication hides each level, the
    levels' shares (known to the test only) and the change between them."""
    rows = [  # school, pre_n, post_n, pre_hidden, post_hidden, pre_share, post_share
        ("A", 40, 42, False, False, 0.30, 0.20),
        ("B", 40, 8, False, False, 0.30, 0.50),     # post small (primary)
        ("C", 40, 42, False, True, 0.30, 0.10),     # post hidden in the publication
        ("D", None, 30, False, False, 0.25, 0.35),  # pre n unknown (hidden at source)
        ("E", 25, 25, True, False, 0.40, 0.45),     # pre hidden to protect another cell
        ("F", 12, 11, None, False, 0.40, 0.45),     # no published pre cell at all
    ]
    frame = pl.DataFrame(rows, schema=["school", "pre_n", "post_n", "pre_hidden", "post_hidden",
                                       "pre_share", "post_share"], orient="row")
    return frame.with_columns((pl.col("post_share") - pl.col("pre_share")).alias("diff"))


def _suppressed(frame: pl.DataFrame) -> pl.DataFrame:
    pre = Level("pre", pl.col("pre_n"), pl.col("pre_hidden"))
    post = Level("post", pl.col("post_n"), pl.col("post_hidden"))
    return suppress_derived(frame, {"change": (["diff"], [(pre, post)])}, min_n=T)


def _published(frame: pl.DataFrame, side: str) -> pl.Series:
    """The level as a reader sees it: blank when hidden or small or unknown."""
    shown = (~pl.col(f"{side}_hidden").fill_null(True)
             & (pl.col(f"{side}_n").fill_null(0) >= T))
    return frame.select(pl.when(shown).then(pl.col(f"{side}_share"))).to_series()


def test_no_hidden_level_is_worked_out_from_a_visible_level_and_a_visible_change():
    frame = _changes()
    out = _suppressed(frame)
    pre, post = _published(frame, "pre"), _published(frame, "post")
    recovered = []
    for i in range(frame.height):
        diff = out["diff"][i]
        if diff is None:
            continue
        if pre[i] is not None and post[i] is None:
            recovered.append((frame["school"][i], "post", pre[i] + diff))
        if post[i] is not None and pre[i] is None:
            recovered.append((frame["school"][i], "pre", post[i] - diff))
    assert recovered == []
    assert out["change_suppressed"].to_list() == [False, True, True, True, True, True]
    # the check can fail: the unsuppressed changes give the hidden levels away
    leaks = [i for i in range(frame.height) if (pre[i] is None) != (post[i] is None)]
    assert leaks and all(frame["diff"][i] is not None for i in leaks)


def test_hidden_changes_carry_the_engines_reason_and_no_number():
    out = _suppressed(_changes())
    hidden = out.filter(pl.col("change_suppressed"))
    assert hidden["diff"].null_count() == hidden.height
    assert set(hidden["change_suppression_reason"]) == {"derived"}
    assert out.filter(~pl.col("change_suppressed"))["change_suppression_reason"].is_null().all()


def test_a_did_is_hidden_when_any_of_its_four_cells_is_hidden():
    cells = ["t_pre", "t_post", "c_pre", "c_post"]
    rows = []
    for hidden in [None, *cells]:
        row = {"did": 0.05}
        for c in cells:
            row[f"{c}_n"], row[f"{c}_hidden"] = 500, c == hidden
        rows.append(row)
    frame = pl.DataFrame(rows)

    def level(c: str) -> Level:
        return Level(c, pl.col(f"{c}_n"), pl.col(f"{c}_hidden"))

    out = suppress_derived(frame, {"did": (["did"], [(level("t_pre"), level("t_post")),
                                                     (level("c_pre"), level("c_post"))])},
                           min_n=T)
    assert out["did_suppressed"].to_list() == [False, True, True, True, True]
    assert out["did"].to_list() == [0.05, None, None, None, None]


def test_no_rows_keeps_the_columns():
    out = _suppressed(_changes().head(0))
    assert out.height == 0
    assert {"change_suppressed", "change_suppression_reason"} <= set(out.columns)


@pytest.mark.parametrize("min_n", [1, 41])
def test_the_threshold_applies_to_the_levels(min_n):
    frame = _changes().head(1)  # pre_n 40, post_n 42, both published
    pre = Level("pre", pl.col("pre_n"), pl.col("pre_hidden"))
    post = Level("post", pl.col("post_n"), pl.col("post_hidden"))
    out = suppress_derived(frame, {"change": (["diff"], [(pre, post)])}, min_n=min_n)
    assert out["change_suppressed"][0] is (min_n > 40)
