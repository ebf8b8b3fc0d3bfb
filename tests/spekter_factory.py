"""Small, deterministic generators of Spekter exports and rosters for the ingest/warehouse tests.

Independent of ``lmp_analytics.synth`` on purpose: these files exercise the input contract
(DATA_CONTRACT.md) in every format the ingest accepts, so they are written by hand here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb
import polars as pl

TEST_KEY = "0123456789abcdef" * 4  # the pseudonym key of the ingest/warehouse tests

ENIGHET = ["Stemmer svært dårlig", "Stemmer dårlig", "Stemmer litt", "Stemmer godt",
           "Stemmer svært godt"]
HYPPIGHET = ["Ikke i det hele tatt", "En sjelden gang", "2 eller 3 ganger i måneden",
             "Omtrent 1 gang i uken", "Flere ganger i uken"]
JANEI = ["Nei", "Ja"]
ENIGHET_ITEMS = ["trivsel", "trygg", "venner", "laerer_bryr", "laerer_respekt", "laerer_hjelp",
                 "elever_greie", "regler", "brak_timer"]
HYPPIGHET_ITEMS = ["mobbet", "mobbet_digitalt", "mobber_andre"]
FORM_ITEMS = ["form_verbal", "form_utestenging", "form_fysisk", "form_digital"]
NOMINATION_ITEMS = ["nom_mobber", "nom_mobbet"]
BASE_COLUMNS = ["skole_orgnr", "gruppe", "trinn", "elev_id", "elev_navn", "dato", "versjon",
                "kjonn", "formal", "runde"]
FORMAL = {"spekter-2022-forebyggende": "forebyggende", "spekter-2022-mistanke": "mistanke",
          "spekter-2018": "forebyggende"}

SCHOOLS = [  # kommunenummer, kommune, orgnr, skole, rolle, pulje, oppstart
    ("0301", "Oslo", "974590123", "Bjørkelia skole", "deltaker", "1", "2024H"),
    ("0301", "Oslo", "974590247", "Fjellsiden ungdomsskole", "deltaker", "1", "2024H"),
    ("4601", "Bergen", "964338531", "Sjøbakken skole", "deltaker", "2", "2025V"),
    ("4601", "Bergen", "964338655", "Lindås skole", "sammenligning", "", ""),
]
ROSTER_HEADER = ["kommunenummer", "kommune", "skole_orgnr", "skole", "rolle", "pulje", "oppstart"]
FIRST_NAMES = ["Sofie", "Nora", "Kari", "Henrik", "Ola", "Emma", "Jakob", "Ingrid", "Æsa",
               "Øystein", "Åse"]
LAST_NAMES = ["Nilsen", "Johansen", "Larsen", "Hansen", "Bjørnstad", "Ødegård", "Håland"]
FREE_TEXT = ["Noen er slemme mot meg på bussen", "Det er fint i friminuttene",
             "Jeg blir ertet i gymtimen – hver uke", "Læreren hjelper meg når jeg spør"]


def orgnrs(n: int | None = None) -> list[str]:
    """Organisation numbers of the default roster (all four schools unless ``n``)."""
    return [s[2] for s in SCHOOLS[: n or len(SCHOOLS)]]


def write_roster(directory: Path, schools: Sequence[Sequence[str]] = SCHOOLS,
                 name: str = "program.csv") -> Path:
    """``program.csv`` (``;``, UTF-8) with the given school rows."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    write_csv(path, [dict(zip(ROSTER_HEADER, s, strict=True)) for s in schools],
              columns=ROSTER_HEADER, encoding="utf-8", newline="\n")
    return path


def many_schools(n: int) -> list[tuple[str, ...]]:
    """``n`` synthetic participating schools (orgnr 9100000N + check digit) for larger tests."""
    from lmp_analytics.registry import orgnr_check_digit

    prefixes = (f"91{i:06d}" for i in range(10 * n + 10))
    orgnrs = [p + str(d) for p in prefixes if (d := orgnr_check_digit(p)) is not None][:n]
    return [("0301", "Oslo", org, f"Skole {i}", "deltaker", "1", "2024H")
            for i, org in enumerate(orgnrs)]


def pupil_id(orgnr: str, gruppe: str, i: int) -> str:
    return f"elev{orgnr[-4:]}{gruppe.lower()}{i:03d}@feide.example.no"


def make_rows(
    orgnr: str,
    gruppe: str,
    *,
    n: int = 12,
    trinn: int | str = 7,
    dato: str = "2024-09-24",
    versjon: str = "spekter-2022-forebyggende",
    runde: str | None = "1",
    seed: int = 0,
    nominations: bool = False,
    first_pupil: int = 0,
) -> list[dict[str, str]]:
    """``n`` pupils of one group with labelled answers, names and free text."""
    rng = random.Random(f"{orgnr}{gruppe}{seed}{dato}")
    rows = []
    for i in range(first_pupil, first_pupil + n):
        row = {
            "skole_orgnr": orgnr, "gruppe": gruppe, "trinn": str(trinn),
            "elev_id": pupil_id(orgnr, gruppe, i),
            "elev_navn": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "dato": dato, "versjon": versjon, "kjonn": rng.choice(["jente", "gutt", "annet", ""]),
            "formal": FORMAL[versjon], "runde": runde or "",
        }
        for item in ENIGHET_ITEMS:
            row[item] = rng.choice([*ENIGHET, ""]) if versjon != "spekter-2018" or item in (
                "trivsel", "venner", "brak_timer") else ""
        for item in HYPPIGHET_ITEMS:
            row[item] = rng.choice([*HYPPIGHET, ""])
        bullied = row["mobbet"] not in ("", HYPPIGHET[0])
        for item in FORM_ITEMS:
            row[item] = rng.choice(JANEI) if bullied else ""
        if nominations:
            others = [pupil_id(orgnr, gruppe, j) for j in range(first_pupil, first_pupil + n)
                      if j != i]
            row["nom_mobber"] = "|".join(rng.sample(others, k=rng.randint(0, 2)))
            row["nom_mobbet"] = "|".join(rng.sample(others, k=rng.randint(0, 1)))
        row["fritekst"] = rng.choice([*FREE_TEXT, "", ""])
        rows.append(row)
    return rows


def columns_of(rows: Iterable[dict[str, str]]) -> list[str]:
    """Every column used by ``rows`` in first-seen order."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def csv_text(rows: Sequence[dict[str, str]], *, columns: Sequence[str] | None = None,
             delimiter: str = ";", newline: str = "\r\n") -> str:
    """The CSV text (header + rows), as Excel would write it."""
    columns = list(columns or columns_of(rows))
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return buf.getvalue()


def write_csv(path: Path, rows: Sequence[dict[str, str]], *, columns: Sequence[str] | None = None,
              delimiter: str = ";", encoding: str = "cp1252", newline: str = "\r\n",
              bom: bool = False) -> Path:
    """Write ``rows`` as CSV; ``encoding='utf-8', bom=True`` gives Excel's 'CSV UTF-8'."""
    data = csv_text(rows, columns=columns, delimiter=delimiter, newline=newline).encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_parquet(path: Path, rows: Sequence[dict[str, str]]) -> Path:
    """Parquet with empty cells as nulls, ``dato`` as a date and numeric columns as numbers."""
    frame = pl.DataFrame([{k: (v if v != "" else None) for k, v in r.items()} for r in rows],
                         schema=dict.fromkeys(columns_of(rows), pl.String))
    numeric = [c for c in ("skole_orgnr", "trinn", "runde")
               if frame.get_column(c).drop_nulls().str.contains(r"^\d+$").all()]
    frame = frame.with_columns(*[pl.col(c).cast(pl.Int64) for c in numeric],
                               pl.col("dato").str.to_date("%Y-%m-%d"))
    frame.write_parquet(path)
    return path


def write_xlsx(path: Path, rows: Sequence[dict[str, str]], *, numbers: bool = True,
               real_dates: bool = True, title_rows: Sequence[str] = ()) -> Path:
    """XLSX via xlsxwriter: digits as numbers in some cells, dates as real Excel dates."""
    import xlsxwriter

    columns = columns_of(rows)
    codes = {label: i + 1 for i, label in enumerate(ENIGHET)}
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Spekter")
    date_fmt = wb.add_format({"num_format": "dd.mm.yyyy"})
    top = len(title_rows)
    for r, text in enumerate(title_rows):
        ws.write_string(r, 0, text)
    ws.write_row(top, 0, columns)
    for r, row in enumerate(rows, start=top + 1):
        for c, col in enumerate(columns):
            value = row.get(col, "")
            if value == "":
                continue
            if col == "dato" and real_dates:
                ws.write_datetime(r, c, dt.datetime.strptime(value, "%Y-%m-%d"), date_fmt)
            elif numbers and col in ("skole_orgnr", "trinn", "runde") and value.isdigit():
                ws.write_number(r, c, int(value))
            elif numbers and col == "trivsel" and value in codes and r % 2:
                ws.write_number(r, c, codes[value])  # the numeric code instead of the label
            else:
                ws.write_string(r, c, value)
    wb.close()
    return path


def school_files(directory: Path, schools: Sequence[str], *, groups: Sequence[str] = ("7A", "7B"),
                 n: int = 12, dato: str = "2024-09-24", prefix: str = "spekter") -> list[Path]:
    """One ``;``/cp1252 CSV per school and group."""
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for orgnr in schools:
        for g in groups:
            path = directory / f"{prefix}_{orgnr}_{g}.csv"
            out.append(write_csv(path, make_rows(orgnr, g, n=n, dato=dato)))
    return out


def read_warehouse(path: Path) -> dict[str, list[tuple]]:
    """Every table of the warehouse, rows sorted: equal snapshots mean equal content."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() ORDER BY table_name").fetchall()]
        return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall() for t in tables}
    finally:
        con.close()
