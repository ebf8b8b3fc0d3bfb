"""The layouts Udir publishes Elevundersøkelsen results in, detected from the header.

- **Statistics-bank export** (API v2 ``Eksport/<report>``; e.g. report 150, grunnskole bullying):
  one row per unit x school year x grade x owner x gender x question, columns ``SpoersmaalNivaa``,
  ``Spoersmaalgruppekode``, ``Spoersmaalgruppe``, ``Spoersmaalkode``, ``Spoersmaalnavn``,
  ``Skoleaarnavn``, ``EnhetNivaa`` (1 nasjon, 2 fylke, 3 kommune, 4 skole; videregående tables
  have no kommune columns and give schools level 3), ``Nasjonaltkode``, ``Fylkekode``, ``Fylke``,
  ``Kommunekode``, ``Kommune``, ``Organisasjonsnummer``, ``EnhetNavn``, ``TrinnKode``,
  ``Trinnnavn``, ``EierformNavn``, ``KjoennKode``, ``Kjoenn``, one value column named after the
  measure (``AndelMobbet``: a share in percent; ``Score`` or ``Snitt…``: a mean index 1-5) and
  ``AntallBesvart``. CSV (``;``/``,``; UTF-8, UTF-8-BOM, Windows-1252), XLSX or JSON (an array
  of row objects, or ``{"data": [...]}``). Column lists: ``reference/SOURCES.md``.
- **Skoleporten download** ``nedlasting.csv``: ``Enhetsnavn;Skoletype;Vurderingsområde;
  Statistikk;Indikator/delskår;Periode;Eierform;Trinn;Kjønn;Verdi;Måleenhet``. Units are named,
  not numbered: the nation, a county or municipality by its registry name, a school by its name
  in the roster (within the roster's municipality).

Both become :class:`Cells`: the typed fields the shared row parser in
:mod:`lmp_analytics.national.reader` checks and stores.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from lmp_analytics.ingest.readers import RawTable, normalise_column, read_table
from lmp_analytics.presentation.messages import message, rejection
from lmp_analytics.registry import fylker, kommuner

STATBANK = "statistikkbank"
SKOLEPORTEN = "skoleporten"

#: Normalised header names that identify a layout (all must be present).
STATBANK_KEYS = {"enhetnivaa", "skoleaarnavn", "antallbesvart"}
SKOLEPORTEN_KEYS = {"enhetsnavn", "indikator/delskar", "periode", "verdi"}

#: Value columns of the statistics bank and their value type.
_PCT_PREFIX = "andel"
_SCORE_COLUMNS = ("score",)
_SCORE_PREFIX = "snitt"
_NOT_MEASURES = re.compile(r"^(andelsvaralternativ\d|andelbesvart|andeldeltatt)$")

NATIONAL_NAMES = {"nasjonalt", "norge", "hele landet", "landet", "alle skoler"}


@dataclass
class Cells:
    """One published cell as text, before checking: the fields the row parser needs."""

    line: int
    level: str | None  # nasjon | fylke | kommune | skole | None (not recognised)
    level_text: str
    unit_code: str | None
    unit_column: str  # header of the column the unit code came from (for messages)
    unit_name: str | None
    school_year: str
    trinn: str
    indicator_code: str | None
    indicator_name: str
    value: str
    value_column: str
    value_type: str | None
    n_answered: str
    kjonn: str
    eierform: str
    problem: tuple[str, str, str] | None = None  # (column, value, reason) found while mapping


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFC", str(value)).strip()


def read_json_table(path: Path) -> RawTable:
    """A statistics-bank JSON export (array of objects, or ``{"data": [...]}``) as a table."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise rejection(path, "eu_json", detail=exc) from exc
    if isinstance(data, dict):
        data = data.get("data", data.get("Data"))
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise rejection(path, "eu_json_shape")
    if not data:
        raise rejection(path, "eu_no_rows")
    names: list[str] = []
    for row in data:
        names += [k for k in row if k not in names]
    columns = {normalise_column(n): n for n in names}
    frame = pl.DataFrame(
        {norm: [_text(r.get(orig)) or None for r in data] for norm, orig in columns.items()},
        schema={norm: pl.String for norm in columns},
    )
    # JSON has no lines: a row is named by its position in the array (first object = row 1)
    return RawTable(path=path, frame=frame, file_format="json", original_columns=columns,
                    first_row=1)


def read_any(path: Path) -> RawTable:
    """CSV, XLSX, Parquet (via :func:`~lmp_analytics.ingest.readers.read_table`) or JSON."""
    if path.suffix.lower() == ".json":
        return read_json_table(path)
    return read_table(path)


def detect(table: RawTable) -> str | None:
    """``statistikkbank``, ``skoleporten`` or None (another layout)."""
    columns = set(table.frame.columns)
    if columns >= STATBANK_KEYS:
        return STATBANK
    if columns >= SKOLEPORTEN_KEYS:
        return SKOLEPORTEN
    return None


def _value_column(table: RawTable) -> tuple[str, str]:
    """(normalised value column, value type) of a statistics-bank table."""
    cols = table.frame.columns
    shares = [c for c in cols if c.startswith(_PCT_PREFIX) and not _NOT_MEASURES.match(c)]
    scores = [c for c in cols if c in _SCORE_COLUMNS or c.startswith(_SCORE_PREFIX)]
    found = [(c, "pct") for c in shares] + [(c, "score_1_5") for c in scores]
    if len(found) != 1:
        what = (", ".join(table.original_columns.get(c, c) for c, _ in found)
                or message("notice.none"))
        raise rejection(table.path, "eu_value_column", found=what, row=table.header_line)
    return found[0]


def _get(row: dict[str, Any], name: str) -> str:
    return _text(row.get(name))


def statbank_cells(table: RawTable) -> list[Cells]:
    """Rows of a statistics-bank export as :class:`Cells`."""
    value_col, value_type = _value_column(table)
    label = table.original_columns.get
    has_kommune = "kommunekode" in table.frame.columns
    lines = table.line_numbers().to_list()
    out: list[Cells] = []
    for line, row in zip(lines, table.frame.iter_rows(named=True), strict=True):
        level_text = _get(row, "enhetnivaa")
        level = {"1": "nasjon", "2": "fylke", "3": "kommune", "4": "skole"}.get(level_text)
        orgnr = _get(row, "organisasjonsnummer")
        code, column = None, ""
        if level == "fylke":  # some exports repeat the unit's code in Organisasjonsnummer
            code, column = _get(row, "fylkekode") or orgnr or None, "fylkekode"
        elif level == "kommune" and (has_kommune and _get(row, "kommunekode")):
            code, column = _get(row, "kommunekode"), "kommunekode"
        elif level == "kommune" and orgnr.isdigit() and len(orgnr) == 9:
            level = "skole"  # videregående tables: level 3 is the school
        if level == "skole":
            code, column = orgnr or None, "organisasjonsnummer"
        indicator = _get(row, "spoersmaalkode") or _get(row, "spoersmaalgruppekode") or None
        name = _get(row, "spoersmaalnavn") or _get(row, "spoersmaalgruppe")
        trinn = _get(row, "trinnnavn") or _get(row, "trinnkode")
        kjonn = _get(row, "kjoenn") or _get(row, "kjoennkode") or "Alle kjønn"
        eierform = _get(row, "eierformnavn") or "Alle eierformer"
        out.append(Cells(
            line=line, level=level, level_text=level_text, unit_code=code,
            unit_column=label(column, column), unit_name=_get(row, "enhetnavn") or None,
            school_year=_get(row, "skoleaarnavn"), trinn=trinn, indicator_code=indicator,
            indicator_name=name, value=_get(row, value_col),
            value_column=label(value_col, value_col),
            value_type=value_type, n_answered=_get(row, "antallbesvart"), kjonn=kjonn,
            eierform=eierform,
        ))
    return out


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFC", text).casefold()
    folded = re.sub(r"[^\w]+", " ", folded)
    return " ".join(folded.split())


def _registry_names() -> tuple[dict[str, str], dict[str, str]]:
    """Normalised name -> number, for current municipalities and counties (names with a Sami
    form like 'Oslo - Oslove' are known by each part too)."""
    kommune: dict[str, str] = {}
    for row in kommuner().filter(pl.col("valid_to").is_null()).iter_rows(named=True):
        for part in [row["kommune"], *row["kommune"].split(" - ")]:
            kommune.setdefault(_key(part), row["kommunenummer"])
            kommune.setdefault(_key(part + " kommune"), row["kommunenummer"])
    fylke: dict[str, str] = {}
    for row in fylker().filter(pl.col("valid_to").is_null()).iter_rows(named=True):
        fylke.setdefault(_key(row["fylke"]), row["fylkesnummer"])
        fylke.setdefault(_key(row["fylke"] + " fylkeskommune"), row["fylkesnummer"])
    return kommune, fylke


def _unit_type(text: str) -> str | None:
    """Måleenhet -> value type: 'prosent' is a share, 'poeng'/'snitt' a mean index; else None
    (the indicator catalogue decides)."""
    key = _key(text)
    if "prosent" in key or key == "":
        return "pct" if key else None
    if "poeng" in key or "snitt" in key or "skala" in key:
        return "score_1_5"
    return None


def skoleporten_cells(table: RawTable, roster: pl.DataFrame | None) -> list[Cells]:
    """Rows of a Skoleporten download as :class:`Cells`; schools are matched to ``roster``
    (columns skole, skole_orgnr, kommunenummer) by normalised name."""
    kommune_names, fylke_names = _registry_names()
    label = table.original_columns.get
    lines = table.line_numbers().to_list()
    rows = list(table.frame.iter_rows(named=True))
    schools: dict[str, list[tuple[str, str, str]]] = {}
    if roster is not None:
        for name, orgnr, knr in roster.select("skole", "skole_orgnr", "kommunenummer").iter_rows():
            schools.setdefault(_key(name), []).append((orgnr, name, knr))
    # municipalities named in the file: a school name is matched within them first
    in_file = {kommune_names[_key(_get(r, "enhetsnavn"))] for r in rows
               if _key(_get(r, "enhetsnavn")) in kommune_names}
    out: list[Cells] = []
    column = label("enhetsnavn", "Enhetsnavn")
    for line, row in zip(lines, rows, strict=True):
        unit = _get(row, "enhetsnavn")
        key = _key(unit)
        level: str | None
        code: str | None = None
        problem = None
        if key in NATIONAL_NAMES:
            level = "nasjon"
        elif key in kommune_names and key not in schools:
            level, code = "kommune", kommune_names[key]
        elif key in fylke_names and key not in schools:
            level, code = "fylke", fylke_names[key]
        else:
            level = "skole"
            candidates = schools.get(key, [])
            local = [c for c in candidates if c[2] in in_file] or candidates
            if roster is None:
                problem = (column, unit, "a school of the roster: give the roster (program.csv) "
                           "so that school names can be matched to organisation numbers")
            elif len(local) == 1:
                code = local[0][0]
            elif not local:
                problem = (column, unit, "the name of a school in the roster (compared without "
                           "case, spaces and punctuation), of a municipality or county, or "
                           "'Nasjonalt'; no school in the roster has this name")
            else:
                names = "; ".join(f"{n} ({o}, kommune {k})" for o, n, k in local)
                problem = (column, unit, f"one school of the roster; the name matches several: "
                           f"{names}")
        value_type = _unit_type(_get(row, "maleenhet"))
        out.append(Cells(
            line=line, level=level, level_text=unit, unit_code=code, unit_column=column,
            unit_name=unit or None, school_year=_get(row, "periode"), trinn=_get(row, "trinn"),
            indicator_code=None, indicator_name=_get(row, "indikator/delskar"),
            value=_get(row, "verdi"), value_column=label("verdi", "Verdi"),
            value_type=value_type, n_answered="", kjonn=_get(row, "kjonn") or "Alle kjønn",
            eierform=_get(row, "eierform") or "Alle eierformer", problem=problem,
        ))
    return out
