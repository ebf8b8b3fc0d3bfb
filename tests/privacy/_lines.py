"""Total minus visible parts" over published indicator rows (the columns of ``api.indicators``).

Written apart from the engine and the publication module: the lines are found from the meaning
of the published columns, the way a reader would, not from ``publication._linkages``.
A line is a total row and the rows that add up to it (with pupils that no published row holds:
empty gender or grade, schools outside a pulje):

* within one unit (group, school round, kommune, pulje, programme; term, rolle, indicator):
  ``alle`` = the ``trinn`` rows, and ``alle`` = the ``kjonn`` rows;
* school rows of a term (one round per school and term) add up to their kommune, and those with a
  pulje to their pulje; kommune rows add up to the programme (same rolle, term, breakdown);
* the group rows of a school round add up to the school round (same breakdown value).

A viewer who sees a line's total sees ``total - visible parts`` = the pupils of its hidden (or
out-of-scope) parts together: that must be 0 or at least ``min_n``.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

UNIT = ("level", "kommunenummer", "skole_orgnr", "gruppe", "rolle", "pulje", "term", "round",
        "indicator")


def _key(row: dict, cols: tuple[str, ...]) -> tuple:
    return tuple(row[c] for c in cols)


def lines(rows: list[dict]) -> Iterator[tuple[str, dict, list[dict]]]:
    """(what, total row, part rows) for every line among ``rows`` (dicts of published rows)."""
    by_unit: dict[tuple, dict[str, list[dict]]] = {}
    for r in rows:
        by_unit.setdefault(_key(r, UNIT), {}).setdefault(r["breakdown"], []).append(r)
    for unit, slices in by_unit.items():
        for total in slices.get("alle", []):
            for by in ("trinn", "kjonn"):
                if slices.get(by):
                    yield f"{dict(zip(UNIT, unit, strict=True))} alle = sum {by}", total, slices[by]
    cell = ("rolle", "term", "indicator", "breakdown", "breakdown_value")
    schools = [r for r in rows if r["level"] == "skole"]
    rounds: dict[tuple, set] = {}
    for r in schools:
        rounds.setdefault((r["skole_orgnr"], r["term"]), set()).add(r["round"])
    one_round = [r for r in schools if len(rounds[(r["skole_orgnr"], r["term"])]) == 1]
    parents = (
        ("kommune", ("kommunenummer",), one_round),
        ("pulje", ("pulje",), [r for r in one_round if r["pulje"] is not None]),
        ("program", (), [r for r in rows if r["level"] == "kommune"]),
    )
    for level, on, children in parents:
        groups: dict[tuple, list[dict]] = {}
        for r in children:
            groups.setdefault(_key(r, (*on, *cell)), []).append(r)
        for total in (r for r in rows if r["level"] == level):
            parts = groups.get(_key(total, (*on, *cell)), [])
            if parts:
                yield f"{level} {_key(total, (*on, *cell))} = sum of the level below", total, parts
    by_round: dict[tuple, list[dict]] = {}
    key = ("skole_orgnr", "round", "indicator", "breakdown", "breakdown_value")
    for r in rows:
        if r["level"] == "gruppe":
            by_round.setdefault(_key(r, key), []).append(r)
    for total in schools:
        parts = by_round.get(_key(total, key), [])
        if parts:
            yield f"school round {_key(total, key)} = sum of its groups", total, parts


def remainder_leaks(published: pl.DataFrame, min_n: int) -> list[str]:
    """Every line whose visible total minus its visible parts leaves 1 to min_n - 1 pupils, with
    the number of them and how many of them were bullied (the count) that subtraction gives."""
    found = []
    for what, total, parts in lines(published.to_dicts()):
        if total["suppressed"]:
            continue
        shown = [p for p in parts if not p["suppressed"]]
        rest_n = total["n"] - sum(p["n"] for p in shown)
        if 0 < rest_n < min_n:
            rest_c = None
            if total["count"] is not None and all(p["count"] is not None for p in shown):
                rest_c = total["count"] - sum(p["count"] for p in shown)
            found.append(f"{what}: total minus visible parts = {rest_n} pupils, count {rest_c}")
    return found
