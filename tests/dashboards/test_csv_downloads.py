"""The dashboard's CSV downloads (``charts.Table.csv``, behind every "Last ned CSV" button) go
through lmp_analytics.spreadsheet: a school named like a formula is text, numbers stay numbers
(a negative share keeps its minus sign, with a decimal comma in bokmål)."""

from __future__ import annotations

import csv
import io

import polars as pl
import pytest
from lmpdash import charts


@pytest.mark.parametrize(("lang", "sep", "negative"), [("nb", ";", "-0,03"), ("en", ",", "-0.03")])
def test_csv_download_neutralises_formula_names(lang, sep, negative):
    frame = pl.DataFrame({
        "Skole": ['=HYPERLINK("http://x","klikk")', "+1+2", "-2+3", "@SUM(A1)", "\t7A"],
        "Verdi": [-0.03, 12.5, None, 0.0, 1.0],
        "n": [-2, 15, 30, 12, 11],
        "Skjult": [False, False, True, False, False],
    })
    data = charts.Table(frame, {"Verdi": "pctv", "n": "int"}, hidden="Skjult").csv(lang)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=sep))
    assert rows[0] == ["Skole", "Verdi", "n", "Skjult"]
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(\"http://x\",\"klikk\")", "'+1+2", "'-2+3",
                                        "'@SUM(A1)", "'\t7A"]
    assert [r[1] for r in rows[1:]] == [negative, "12" + negative[2] + "5", "", "0" + negative[2]
                                        + "0", "1" + negative[2] + "0"]
    assert rows[1][2] == "-2"
