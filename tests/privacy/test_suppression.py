"""Hand-made tables for the suppression engine: each case says what a reader could otherwise
work out and checks that the engine hides exactly enough."""

from __future__ import annotations

import warnings

import polars as pl
import pytest

from lmp_analytics.privacy import (
    PRIVACY,
    Change,
    Linkage,
    SuppressionError,
    SuppressionWarning,
    suppress,
    suppress_cube,
)

from .assertions import assert_matches_suppressed, assert_no_hidden_numbers

SCHOOL_A, SCHOOL_B = "974000008", "974000016"


def frame(rows: list[tuple], columns: list[str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=columns, orient="row")


def status(out: pl.DataFrame, cells: pl.DataFrame, *keys: str, t: int = 10
           ) -> dict[tuple, str | None]:
    """{key values: None (visible) or why hidden}: "primary" for a hidden cell of n < t,
    "complementary" for a hidden cell of n >= t, other reasons as given (``cells``: the input,
    in the order of ``out``). A reader sees one reason for the first two (``privacy``)."""
    got = {}
    for r, n in zip(out.iter_rows(named=True), cells["n"], strict=True):
        reason = r["suppression_reason"]
        if reason == PRIVACY:
            assert r["n_display"] == "*", r
            reason = "primary" if n is not None and n < t else "complementary"
        got[tuple(r[k] for k in keys)] = reason
    return got


# --- primary and the basic complementary cases ------------------------------------------------


def test_municipality_with_one_small_school_hides_the_other_school_too():
    cells = frame(
        [("0301", None, 40, 8, 0.2), ("0301", SCHOOL_A, 35, 7, 0.2), ("0301", SCHOOL_B, 5, 1, 0.2)],
        ["kommunenummer", "skole_orgnr", "n", "count", "share"],
    )
    out = suppress_cube(cells, keys=["kommunenummer", "skole_orgnr"], min_n=10)
    # 40 - 35 would give the small school's 5 respondents and 1 bullied
    assert status(out, cells, "skole_orgnr") == {
        (None,): None, (SCHOOL_A,): "complementary", (SCHOOL_B,): "primary"
    }
    small = out.filter(pl.col("skole_orgnr") == SCHOOL_B).row(0, named=True)
    assert small["n"] is None and small["count"] is None and small["share"] is None
    other = out.filter(pl.col("skole_orgnr") == SCHOOL_A).row(0, named=True)
    # the small school and the one hidden to protect it read alike: one mark, reason and note
    for col in ("n_display", "suppression_reason", "suppression_note_nb", "suppression_note_en"):
        assert small[col] == other[col], col
    assert small["n_display"] == "*" and small["suppression_reason"] == "privacy"
    assert small["suppression_note_nb"].startswith("skjult av personvernhensyn: færre enn 10")
    assert small["suppression_note_en"].startswith("hidden for privacy: fewer than 10")
    assert out.filter(pl.col("skole_orgnr").is_null())["n_display"].to_list() == ["40"]
    assert_no_hidden_numbers(out, keys=["kommunenummer", "skole_orgnr"])


def test_school_with_grades_hides_the_next_smallest_grade():
    cells = frame(
        [(SCHOOL_A, None, 60, 6), (SCHOOL_A, 5, 25, 2), (SCHOOL_A, 6, 5, 1), (SCHOOL_A, 7, 30, 3)],
        ["skole_orgnr", "trinn", "n", "count"],
    )
    out = suppress_cube(cells, keys=["skole_orgnr", "trinn"], min_n=10)
    assert status(out, cells, "trinn") == {
        (None,): None, (5,): "complementary", (6,): "primary", (7,): None
    }


def test_equal_sizes_are_broken_by_key():
    cells = frame(
        [(SCHOOL_A, None, 45, 6), (SCHOOL_A, 5, 20, 2), (SCHOOL_A, 6, 5, 1), (SCHOOL_A, 7, 20, 3)],
        ["skole_orgnr", "trinn", "n", "count"],
    )
    out = suppress_cube(cells, keys=["skole_orgnr", "trinn"], min_n=10)
    assert status(out, cells, "trinn")[(5,)] == "complementary"
    assert status(out, cells, "trinn")[(7,)] is None


def test_gender_split_with_both_parts_small():
    cells = frame(
        [(SCHOOL_A, None, 30, 3), (SCHOOL_A, "gutt", 21, 2), (SCHOOL_A, "jente", 9, 1)],
        ["skole_orgnr", "kjonn", "n", "count"],
    )
    out = suppress_cube(cells, keys=["skole_orgnr", "kjonn"], min_n=10)
    assert status(out, cells, "kjonn") == {
        (None,): None, ("gutt",): "complementary", ("jente",): "primary"
    }


def test_one_mark_for_small_and_protecting_cells_so_the_total_can_stay():
    # with "< 10" and "*" labels, 18 = "< 10" + "< 10" could only be 9 + 9 and 11 = "*" + "< 10"
    # only 10 + 1, so the total had to go; with one mark a reader knows only that each part holds
    # at least one pupil, and the two together (18, 11) are at least min_n
    for total, gutt, jente in [(18, 9, 9), (11, 10, 1)]:
        cells = frame(
            [(SCHOOL_A, None, total), (SCHOOL_A, "gutt", gutt), (SCHOOL_A, "jente", jente)],
            ["skole_orgnr", "kjonn", "n"],
        )
        out = suppress_cube(cells, keys=["skole_orgnr", "kjonn"], min_n=10)
        assert out["suppressed"].to_list() == [False, True, True], (total, gutt, jente)
        assert out["n_display"].to_list() == [str(total), "*", "*"]


def test_labels_that_do_not_pin_keep_the_total():
    cells = frame(
        [(SCHOOL_A, None, 19), (SCHOOL_A, "gutt", 10), (SCHOOL_A, "jente", 9)],
        ["skole_orgnr", "kjonn", "n"],
    )
    out = suppress_cube(cells, keys=["skole_orgnr", "kjonn"], min_n=10)
    assert status(out, cells, "kjonn") == {
        (None,): None, ("gutt",): "complementary", ("jente",): "primary"
    }


def test_hidden_total_with_visible_parts_is_protected_across_linkages():
    # the school total is hidden to protect the kommune split; its grades would add it back up
    cells = frame(
        [
            ("0301", None, None, 75),
            ("0301", SCHOOL_A, None, 70),
            ("0301", SCHOOL_B, None, 5),
            ("0301", SCHOOL_A, 5, 30),
            ("0301", SCHOOL_A, 6, 40),
        ],
        ["kommunenummer", "skole_orgnr", "trinn", "n"],
    )
    out = suppress_cube(cells, keys=["kommunenummer", "skole_orgnr", "trinn"], min_n=10)
    assert status(out, cells, "skole_orgnr", "trinn") == {
        (None, None): None,
        (SCHOOL_A, None): "complementary",
        (SCHOOL_B, None): "primary",
        (SCHOOL_A, 5): "complementary",
        (SCHOOL_A, 6): None,
    }


def test_single_school_municipality_keeps_its_total_with_the_school():
    # kommune = its only school; both genders go (10 alone would give the 1), and the 11 they
    # hold together is at least min_n, so school and kommune totals stay
    cells = frame(
        [
            ("0301", None, None, 11),
            ("0301", SCHOOL_A, None, 11),
            ("0301", SCHOOL_A, "gutt", 10),
            ("0301", SCHOOL_A, "jente", 1),
        ],
        ["kommunenummer", "skole_orgnr", "kjonn", "n"],
    )
    out = suppress_cube(cells, keys=["kommunenummer", "skole_orgnr", "kjonn"], min_n=10)
    assert out["suppressed"].to_list() == [False, False, True, True]


def test_two_by_two_table_hides_a_rectangle():
    sizes = {(5, "gutt"): 20, (5, "jente"): 3, (6, "gutt"): 25, (6, "jente"): 30,
             (7, "gutt"): 22, (7, "jente"): 28}
    rows = [
        (SCHOOL_A, tr, g, sum(v for (a, b), v in sizes.items() if tr in (None, a)
                              and g in (None, b)))
        for tr in (None, 5, 6, 7) for g in (None, "gutt", "jente")
    ]
    cells = frame(rows, ["skole_orgnr", "trinn", "kjonn", "n"])
    out = suppress_cube(cells, keys=["skole_orgnr", "trinn", "kjonn"], min_n=10)
    hidden = {k for k, v in status(out, cells, "trinn", "kjonn").items() if v}
    assert hidden == {(5, "gutt"), (5, "jente"), (7, "gutt"), (7, "jente")}


# --- residuals, changes, thresholds ------------------------------------------------------------


def test_small_unpublished_residual_is_protected():
    # 2 pupils with unknown gender: 30 - 15 - 13 would show them
    cells = frame(
        [(SCHOOL_A, None, 30), (SCHOOL_A, "gutt", 15), (SCHOOL_A, "jente", 13)],
        ["skole_orgnr", "kjonn", "n"],
    )
    out = suppress_cube(cells, keys=["skole_orgnr", "kjonn"], min_n=10)
    assert status(out, cells, "kjonn") == {
        (None,): None, ("gutt",): None, ("jente",): "complementary"
    }
    large = frame(
        [(SCHOOL_A, None, 50), (SCHOOL_A, "gutt", 15), (SCHOOL_A, "jente", 13)],
        ["skole_orgnr", "kjonn", "n"],
    )
    assert not suppress_cube(large, keys=["skole_orgnr", "kjonn"], min_n=10)["suppressed"].any()


def test_change_rows_follow_their_levels():
    rows = []
    for term, sizes in (("2024H", (40, 20, 20)), ("2025V", (38, 30, 8))):
        total, t5, t6 = sizes
        rows += [(SCHOOL_A, None, term, total), (SCHOOL_A, 5, term, t5),
                 (SCHOOL_A, 6, term, t6)]
    rows += [(SCHOOL_A, None, "endring", -2), (SCHOOL_A, 5, "endring", 10),
             (SCHOOL_A, 6, "endring", -12)]
    cells = frame(rows, ["skole_orgnr", "trinn", "term", "n"])
    out = suppress_cube(
        cells, keys=["skole_orgnr", "trinn", "term"], min_n=10,
        changes=[Change(column="term", label="endring", before="2024H", after="2025V")],
    )
    got = status(out, cells, "trinn", "term")
    assert got[(6, "2025V")] == "primary" and got[(5, "2025V")] == "complementary"
    assert got[(5, "endring")] == "derived" and got[(6, "endring")] == "derived"
    assert got[(None, "endring")] is None
    assert all(got[(tr, "2024H")] is None for tr in (None, 5, 6))


def test_change_pairs_may_differ_per_row():
    cells = frame(
        [(SCHOOL_A, "2024H", 20, None, None), (SCHOOL_A, "2025V", 5, None, None),
         (SCHOOL_A, "endring", -15, "2024H", "2025V"),
         (SCHOOL_B, "2023H", 30, None, None), (SCHOOL_B, "2024H", 30, None, None),
         (SCHOOL_B, "endring", 0, "2023H", "2024H")],
        ["skole_orgnr", "term", "n", "pre", "post"],
    )
    out = suppress(
        cells, keys=["skole_orgnr", "term"], min_n=10, labels=["pre", "post"],
        changes=[Change(column="term", label="endring", before_column="pre",
                        after_column="post")],
    )
    assert status(out, cells, "skole_orgnr", "term")[(SCHOOL_A, "endring")] == "derived"
    assert status(out, cells, "skole_orgnr", "term")[(SCHOOL_B, "endring")] is None


def test_thresholds_per_indicator_and_from_the_environment(monkeypatch):
    cells = frame([("mobbet", 20), ("trivsel", 20), ("trivsel", 7)], ["indicator", "n"])
    cells = cells.with_columns(unit=pl.Series(["a", "a", "b"]))
    out = suppress(cells, keys=["indicator", "unit"], min_n_by_indicator={"mobbet": 30})
    assert out["suppressed"].to_list() == [True, False, True]
    assert out["n_display"].to_list() == ["*", "20", "*"]
    assert "fewer than 30" in out["suppression_note_en"][0]
    monkeypatch.setenv("LMP_MIN_N", "5")
    assert suppress(cells, keys=["indicator", "unit"])["suppressed"].to_list() == [
        False, False, False
    ]
    with pytest.raises(SuppressionError, match="only be stricter"):
        suppress(cells, keys=["indicator", "unit"], min_n=10, min_n_by_indicator={"mobbet": 5})


def test_every_value_column_is_blanked_but_labels_are_kept():
    cells = frame(
        [(SCHOOL_A, "Bakken skole", 4, 1, 0.25, 0.05, 0.7, 3.9)],
        ["skole_orgnr", "skolenavn", "n", "count", "share", "ci_low", "ci_high", "mean"],
    )
    out = suppress(cells, keys=["skole_orgnr"], labels=["skolenavn"], min_n=10)
    row = out.row(0, named=True)
    assert row["skolenavn"] == "Bakken skole"
    assert all(row[c] is None for c in ("n", "count", "share", "ci_low", "ci_high", "mean"))


def test_cells_suppressed_at_source_stay_hidden_and_are_never_filled_in():
    cells = frame([("A", None, 0.31), ("B", 120, 0.12)], ["unit", "n", "share"])
    out = suppress(cells, keys=["unit"], min_n=10)
    assert out["suppression_reason"].to_list() == ["source", None]
    assert out["suppression_note_en"].to_list() == ["suppressed at source", None]
    assert out["share"].to_list() == [None, 0.12]


def test_general_linkage_on_mart_layout():
    # the marts keep breakdowns as (breakdown, breakdown_value) rows instead of null totals
    cells = frame(
        [(SCHOOL_A, "alle", "alle", 40), (SCHOOL_A, "kjonn", "gutt", 34),
         (SCHOOL_A, "kjonn", "jente", 6)],
        ["skole_orgnr", "breakdown", "breakdown_value", "n"],
    )
    linkage = Linkage(
        on=("skole_orgnr",), total=pl.col("breakdown") == "alle",
        parts=pl.col("breakdown") == "kjonn", name="kjonn",
    )
    out = suppress(cells, keys=["skole_orgnr", "breakdown", "breakdown_value"],
                   linkages=[linkage], min_n=10)
    assert status(out, cells, "breakdown_value") == {
        ("alle",): None, ("gutt",): "complementary", ("jente",): "primary"
    }


def test_result_does_not_depend_on_row_order_and_a_second_pass_changes_nothing():
    cells = frame(
        [(SCHOOL_A, None, 60), (SCHOOL_A, 5, 25), (SCHOOL_A, 6, 5), (SCHOOL_A, 7, 30)],
        ["skole_orgnr", "trinn", "n"],
    )
    keys = ["skole_orgnr", "trinn"]
    a = suppress_cube(cells, keys=keys, min_n=10)
    b = suppress_cube(cells.reverse(), keys=keys, min_n=10).reverse()
    assert a.equals(b)
    again = suppress_cube(a, keys=keys, min_n=10)
    assert again["suppression_reason"].to_list() == a["suppression_reason"].to_list()


def test_one_mark_means_no_label_pins_a_count():
    # with "< 3" labels a "< 3" total with two "< 3" parts could only be 1 + 1 (the engine had
    # to warn); with one mark nothing is pinned, so nothing to warn about
    cells = frame(
        [(SCHOOL_A, None, 2), (SCHOOL_A, "gutt", 1), (SCHOOL_A, "jente", 1)],
        ["skole_orgnr", "kjonn", "n"],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", SuppressionWarning)
        out = suppress_cube(cells, keys=["skole_orgnr", "kjonn"], min_n=3)
    assert out["suppressed"].all() and set(out["n_display"]) == {"*"}


# --- whole lines: the hidden parts of a line together ------------------------------------------


def _line_rest(out: pl.DataFrame, cells: pl.DataFrame, total: int, parts: list[int]) -> int:
    """Total minus the visible parts, as a reader works it out (row numbers of ``out``)."""
    shown = [p for p in parts if not out["suppressed"][p]]
    return cells["n"][total] - sum(cells["n"][p] for p in shown)


def test_hidden_parts_and_unpublished_pupils_together_are_at_least_min_n():
    # 29 pupils: 12 boys, 12 girls, 2 "annet" and 3 who left gender empty (in no cell): the
    # total minus the visible genders would be 5 pupils; the next-smallest part (by key: gutt)
    # joins them
    cells = frame(
        [(SCHOOL_A, None, 29, 11), (SCHOOL_A, "annet", 2, 1), (SCHOOL_A, "gutt", 12, 5),
         (SCHOOL_A, "jente", 12, 3)],
        ["skole_orgnr", "kjonn", "n", "count"],
    )
    out = suppress_cube(cells, keys=["skole_orgnr", "kjonn"], min_n=10)
    assert status(out, cells, "kjonn") == {
        (None,): None, ("annet",): "primary", ("gutt",): "complementary", ("jente",): None
    }
    assert _line_rest(out, cells, 0, [1, 2, 3]) == 17


def test_a_line_with_nothing_hidden_or_enough_hidden_is_left_alone():
    # nothing unpublished and nothing small: all shown; 12 pupils of empty gender: enough
    for total, unpublished in [(40, 0), (52, 12)]:
        cells = frame(
            [(SCHOOL_A, None, total), (SCHOOL_A, "gutt", 20), (SCHOOL_A, "jente", 20)],
            ["skole_orgnr", "kjonn", "n"],
        )
        out = suppress_cube(cells, keys=["skole_orgnr", "kjonn"], min_n=10)
        assert not out["suppressed"].any(), unpublished


def test_the_rule_holds_in_lines_with_a_hidden_total_too():
    # kommune 30 = school X 15 + school Y 12 + school Z 3. Y is hidden beside Z (15 together).
    # If Y's own line kept its boys (10) shown and its girl and "annet" pupil hidden, a reader
    # would open Y by its line: 30 - 15 - 10 = Y's 2 hidden pupils and Z's 3: 5 pupils. So the
    # rule holds in Y's line although Y's total is hidden: its boys go too.
    x, y, z = "974000001", "974000002", "974000003"
    cells = frame(
        [("0301", None, None, 30), ("0301", x, None, 15), ("0301", y, None, 12),
         ("0301", z, None, 3), ("0301", y, "annet", 1), ("0301", y, "gutt", 10),
         ("0301", y, "jente", 1)],
        ["kommunenummer", "skole_orgnr", "kjonn", "n"],
    )
    out = suppress_cube(cells, keys=["kommunenummer", "skole_orgnr", "kjonn"], min_n=10)
    got = status(out, cells, "skole_orgnr", "kjonn")
    assert got[(y, None)] == "complementary" and got[(z, None)] == "primary"
    assert got[(y, "gutt")] == "complementary"
    assert got[(None, None)] is None and got[(x, None)] is None


def test_fixed_cells_keep_their_state_and_the_engine_hides_around_them():
    # the school total (published elsewhere) stays: 40 = 25 + 12 + 3; the small group goes,
    # and so does the next-smallest (40 - 25 - 12 would give the 3), never the fixed total
    cells = frame(
        [("s", None, 40), ("s", "7A", 25), ("s", "7B", 12), ("s", "7C", 3)],
        ["skole", "gruppe", "n"],
    )
    out = suppress_cube(cells, keys=["skole", "gruppe"], dims=["gruppe"], min_n=10,
                        fixed=pl.col("gruppe").is_null())
    assert out["suppressed"].to_list() == [False, False, True, True]
    # only a fixed cell left to hide: the engine cannot, and says so
    stuck = frame([("s", None, 40), ("s", "7A", 37), ("s", "7B", 3)], ["skole", "gruppe", "n"])
    with pytest.warns(SuppressionWarning, match="nothing visible left"):
        out = suppress_cube(stuck, keys=["skole", "gruppe"], dims=["gruppe"], min_n=10,
                            fixed=pl.col("gruppe").is_null() | (pl.col("gruppe") == "7A"))
    assert out["suppressed"].to_list() == [False, False, True]


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "columns", "kwargs", "message"),
    [
        ([("A", 5), ("A", 6)], ["unit", "n"], {}, "two cells share the keys"),
        ([("A", 5)], ["unit", "n"], {"keys": ["skole"]}, "not in the cells"),
        ([("A", -1)], ["unit", "n"], {}, "negative"),
        ([("A", 1.5)], ["unit", "n"], {}, "whole-number"),
        ([("A", 5)], ["unit", "n"], {"keys": []}, "at least one key"),
        ([("A", 5)], ["unit", "n"], {"min_n": 0}, "at least 1"),
    ],
)
def test_bad_cells_are_refused_with_a_clear_message(rows, columns, kwargs, message):
    kwargs = {"keys": ["unit"], **kwargs}
    with pytest.raises(SuppressionError, match=message):
        suppress(frame(rows, columns), **kwargs)


def test_parts_larger_than_the_total_are_refused():
    cells = frame([(None, 10), ("x", 8), ("y", 8)], ["kjonn", "n"])
    with pytest.raises(SuppressionError, match="more than their total"):
        suppress_cube(cells, keys=["kjonn"], dims=["kjonn"], min_n=3)


def test_change_without_its_levels_is_refused():
    cells = frame([(SCHOOL_A, "2025V", 20), (SCHOOL_A, "endring", 3)], ["skole_orgnr", "term", "n"])
    with pytest.raises(SuppressionError, match="no matching before/after"):
        suppress(cells, keys=["skole_orgnr", "term"], min_n=10,
                 changes=[Change(column="term", label="endring", before="2024H", after="2025V")])
    with pytest.raises(SuppressionError, match="exactly one of before"):
        Change(column="term", label="endring", after="2025V")


# --- guards for output paths -------------------------------------------------------------------


def test_guards_catch_numbers_that_escape_suppression():
    cells = frame(
        [(None, 40, 8), (SCHOOL_A, 35, 7), (SCHOOL_B, 5, 1)], ["skole_orgnr", "n", "count"]
    )
    out = suppress_cube(cells, keys=["skole_orgnr"], dims=["skole_orgnr"], min_n=10)
    with pytest.raises(AssertionError, match="not suppressed"):
        assert_no_hidden_numbers(cells, keys=["skole_orgnr"])
    leaked = out.with_columns(count=pl.Series([8, 7, 1]))
    with pytest.raises(AssertionError, match="shows 'count' = 7"):
        assert_no_hidden_numbers(leaked, keys=["skole_orgnr"])
    export = out.select("skole_orgnr", "n", "count")
    assert_matches_suppressed(export, out, keys=["skole_orgnr"])
    assert_matches_suppressed(export.head(1), out, keys=["skole_orgnr"])
    with pytest.raises(AssertionError, match="did not release"):
        assert_matches_suppressed(cells, out, keys=["skole_orgnr"])
