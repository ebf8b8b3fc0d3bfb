"""Synthetic cubes for the privacy tests: kommune → skole → trinn × kjonn × two terms.

Every margin is summed from the leaves, so totals and parts agree exactly; the ``ukjent`` gender
is counted in the totals but never published, which leaves residuals the engine must protect.
"""

from __future__ import annotations

import itertools

import polars as pl
from hypothesis import strategies as st

TERMS = ("2024H", "2025V")
CHANGE = "2024H-2025V"
KEYS = ("kommunenummer", "skole_orgnr", "trinn", "kjonn", "term", "indicator")
DIMS = ("kommunenummer", "skole_orgnr", "trinn", "kjonn")
KOMMUNER = ("0301", "1103")

Leaf = tuple[str, str, int, str, str]  # kommune, skole, trinn, kjonn, term


def build_cube(leaves: dict[Leaf, tuple[int, int]], *, changes: bool = True) -> pl.DataFrame:
    """Every published margin of the leaves (n > 0), plus change rows between the two terms."""
    kommuner = sorted({leaf[0] for leaf in leaves})
    schools = sorted({leaf[:2] for leaf in leaves})
    trinn = sorted({leaf[2] for leaf in leaves})
    kjonn = sorted({leaf[3] for leaf in leaves} - {"ukjent"})
    units = [(None, None)] + [(k, None) for k in kommuner] + schools
    rows = {}
    for (k, s), tr, g, term in itertools.product(units, [None, *trinn], [None, *kjonn], TERMS):
        n = c = 0
        for (lk, ls, ltr, lg, lterm), (ln, lc) in leaves.items():
            if (k in (None, lk) and s in (None, ls) and tr in (None, ltr) and g in (None, lg)
                    and term == lterm):
                n, c = n + ln, c + lc
        if n > 0:
            rows[(k, s, tr, g, term)] = (n, c)
    records = [
        {"kommunenummer": k, "skole_orgnr": s, "trinn": tr, "kjonn": g, "term": term,
         "indicator": "mobbet", "n": n, "count": c, "share": c / n}
        for (k, s, tr, g, term), (n, c) in rows.items()
    ]
    if changes:
        for (k, s, tr, g, term), (n2, c2) in rows.items():
            if term != TERMS[1] or (k, s, tr, g, TERMS[0]) not in rows:
                continue
            n1, c1 = rows[(k, s, tr, g, TERMS[0])]
            records.append(
                {"kommunenummer": k, "skole_orgnr": s, "trinn": tr, "kjonn": g, "term": CHANGE,
                 "indicator": "mobbet", "n": n2 - n1, "count": c2 - c1,
                 "share": c2 / n2 - c1 / n1}
            )
    schema = {"kommunenummer": pl.String, "skole_orgnr": pl.String, "trinn": pl.Int64,
              "kjonn": pl.String, "term": pl.String, "indicator": pl.String, "n": pl.Int64,
              "count": pl.Int64, "share": pl.Float64}
    return pl.DataFrame(records, schema=schema, orient="row")


@st.composite
def leaf_sets(draw, max_n: int = 16) -> dict[Leaf, tuple[int, int]]:
    """Random leaves: 1–2 kommuner, 1–3 schools each, 1–3 trinn, gutt/jente (and sometimes an
    unpublished ``ukjent``)."""
    kommuner = KOMMUNER[: draw(st.integers(1, 2))]
    trinn = draw(st.lists(st.sampled_from([5, 6, 7]), min_size=1, max_size=3, unique=True))
    kjonn = ["gutt", "jente"] + (["ukjent"] if draw(st.booleans()) else [])
    leaves: dict[Leaf, tuple[int, int]] = {}
    for k in kommuner:
        for i in range(draw(st.integers(1, 3))):
            school = f"9{k}{i:04d}"
            for tr, g, term in itertools.product(sorted(trinn), kjonn, TERMS):
                n = draw(st.integers(0, 3 if g == "ukjent" else max_n))
                c = draw(st.integers(0, n))
                leaves[(k, school, tr, g, term)] = (n, c)
    if not any(n for n, _ in leaves.values()):
        leaves[next(iter(leaves))] = (1, 0)
    return leaves
