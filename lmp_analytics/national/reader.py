"""Reader for Udir statistikkbank CSV exports of Elevundersøkelsen (DATA_CONTRACT §3).

Format: ``;``-separated (``,`` and tab are sniffed too), decimal comma, space or non-breaking
space as thousands separator, ``*`` for a suppressed cell; UTF-8, UTF-8 with BOM or
Windows-1252 (sniffed: strict UTF-8 first, then cp1252). Column names are case- and
whitespace-insensitive; unknown columns are ignored with a warning.

File-level faults (unreadable encoding, missing columns) raise
:class:`~lmp_analytics.errors.FileRejected`. Row-level faults become problems naming the file,
the row (1-based line, header = 1), the column, the value and what was expected:
:func:`read_eu_export_with_problems` returns them beside the good rows (for quarantine),
:func:`read_eu_export` refuses the file if there is any.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import unicodedata
import warnings
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from lmp_analytics.errors import FileRejected
from lmp_analytics.ingest.readers import normalise_column
from lmp_analytics.national.layouts import (
    STATBANK,
    Cells,
    detect,
    read_any,
    skoleporten_cells,
    statbank_cells,
)
from lmp_analytics.national.reference import INDICATOR_FILE, indicator_catalogue, normalise_name
from lmp_analytics.national.schema import (
    RESULT_SCHEMA,
    RowProblem,
    problems_frame,
    validate_results,
)
from lmp_analytics.national.series import parse_school_year, series_version
from lmp_analytics.registry import check_fylkesnummer, check_kommunenummer, orgnr_problem

SUPPRESSED = "*"
NO_DATA = (".", "", "-", "..")
LEGACY = "lmp"
PRELIMINARY_RE = re.compile(r"^\s*forel(ø|o|oe)pige\s+tall\s*:?\s*", re.IGNORECASE)
LEGACY_KEYS = {"skolear", "enhetsniva", "enhetskode", "indikator", "antall_besvart"}

#: Result column -> accepted header names (compared after :func:`normalise_name`).
_HEADERS: dict[str, tuple[str, ...]] = {
    "school_year": ("skoleår", "skolear", "skoleaar"),
    "level": ("enhetsnivå", "enhetsniva", "enhetsnivaa"),
    "unit_code": ("enhetskode",),
    "unit_name": ("enhetsnavn",),
    "trinn": ("trinn",),
    "indicator": ("indikator",),
    "value": ("verdi",),
    "n_answered": ("antall besvart", "antall besvarte"),
}
_CANONICAL_HEADER = {
    "school_year": "Skoleår",
    "level": "Enhetsnivå",
    "unit_code": "Enhetskode",
    "unit_name": "Enhetsnavn",
    "trinn": "Trinn",
    "indicator": "Indikator",
    "value": "Verdi",
    "n_answered": "Antall besvart",
}
_LEVEL_NAMES = {
    "nasjonalt": "nasjon",
    "nasjonal": "nasjon",
    "nasjon": "nasjon",
    "fylke": "fylke",
    "kommune": "kommune",
    "skole": "skole",
}
_SPACES = "\u0020\u00a0\u202f\u2009\u2007"
_NUMBER_RE = re.compile(rf"^-?(\d+|\d{{1,3}}([{_SPACES}]\d{{3}})+)([.,]\d+)?$")
_TRINN_RE = re.compile(r"^(\d{1,2})\s*\.?\s*(trinn|årstrinn|arstrinn|klasse)$")
_TRINN_AFTER_RE = re.compile(r"^(trinn|årstrinn)\s*(\d{1,2})$")
_VG_RE = re.compile(r"^vg\s*([1-3])$")
_KJONN = {"a": "alle", "alle": "alle", "alle kjønn": "alle", "begge kjønn": "alle",
          "totalt": "alle", "j": "jenter", "jente": "jenter", "jenter": "jenter",
          "g": "gutter", "gutt": "gutter", "gutter": "gutter"}
_EIERFORM = {"alle eierformer": "alle", "alle": "alle", "offentlig": "offentlig",
             "offentlig skole": "offentlig", "offentlige skoler": "offentlig",
             "offentlig eiet": "offentlig", "privat": "privat", "privat skole": "privat",
             "private skoler": "privat", "privat eiet": "privat"}
_DELIMITERS = (";", "\t", ",")


class EuExportWarning(UserWarning):
    """Something in an export was ignored (e.g. an unknown column)."""


@dataclass(frozen=True)
class EuExport:
    """A read export: accepted rows, rejected rows, and how the file was decoded."""

    results: pl.DataFrame
    problems: pl.DataFrame
    source_file: str
    encoding: str | None
    delimiter: str | None
    layout: str = LEGACY
    file_format: str = "csv"
    warnings: tuple[str, ...] = ()
    rows_read: int = 0
    rows_without_data: int = 0


def parse_number(text: str) -> float:
    """``'4,2'`` -> 4.2, ``'63 187'`` -> 63187.0 (space/nbsp thousands, decimal comma).

    Raises ``ValueError`` saying what was expected.
    """
    cleaned = str(text).strip().replace("\u2212", "-")
    if not _NUMBER_RE.match(cleaned):
        raise ValueError(
            "expected a number with decimal comma and optional space thousands separator "
            "(e.g. '4,2' or '63 187')"
        )
    for space in _SPACES:
        cleaned = cleaned.replace(space, "")
    return float(cleaned.replace(",", "."))


def parse_count(text: str) -> int:
    """``'63 187'`` -> 63187; raises ``ValueError`` for fractions and negatives."""
    value = parse_number(text)
    if value != int(value) or value < 0 or re.search(r"[.,]", str(text)):
        raise ValueError("expected a whole number of answers >= 0 (e.g. '63 187')")
    return int(value)


@lru_cache(maxsize=256)
def parse_trinn(text: str) -> int | None:
    """``'7. trinn'`` -> 7, ``'Vg1'`` -> 11, ``'Alle trinn'`` -> None."""
    key = normalise_name(text)
    if key in ("alle trinn", "alle"):
        return None
    if m := _TRINN_RE.match(key):
        return int(m.group(1))
    if m := _TRINN_AFTER_RE.match(key):
        return int(m.group(2))
    if key.isdigit():
        return int(key)
    if m := _VG_RE.match(key):
        return 10 + int(m.group(1))
    raise ValueError("expected a grade like '7. trinn', 'Trinn 7', '7. årstrinn' (5-10), "
                     "'Vg1'-'Vg3' or 'Alle trinn'")


def _decode(path: Path, raw: bytes) -> tuple[str, str]:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise FileRejected(
                str(path), f"starts like UTF-16 but cannot be decoded: {exc}"
            ) from exc
    try:
        encoding = "utf-8-sig" if raw.startswith(codecs.BOM_UTF8) else "utf-8"
        return raw.decode("utf-8-sig"), encoding
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise FileRejected(
            str(path),
            f"not text in UTF-8 or Windows-1252 (byte 0x{raw[exc.start]:02x} at offset "
            f"{exc.start}); save the export as CSV (UTF-8)",
        ) from exc


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ";"


def _map_header(path: str, header: list[str], line: int) -> tuple[dict[str, int], dict[str, str]]:
    """Result column -> index in the record, and result column -> header text in the file."""
    wanted = {alias: col for col, aliases in _HEADERS.items() for alias in aliases}
    index: dict[str, int] = {}
    labels: dict[str, str] = {}
    unknown: list[str] = []
    for i, name in enumerate(header):
        key = normalise_name(name)
        if not key:
            continue
        column = wanted.get(key)
        if column is None:
            unknown.append(name.strip())
            continue
        if column in index:
            raise FileRejected(
                path,
                f"column '{name.strip()}' appears twice (also as '{labels[column]}')",
                row=line,
                column=name.strip(),
            )
        index[column] = i
        labels[column] = name.strip()
    missing = [_CANONICAL_HEADER[c] for c in _HEADERS if c not in index]
    if missing:
        found = ", ".join(repr(h.strip()) for h in header)
        raise FileRejected(
            path,
            f"missing column(s) {', '.join(missing)}; found {found}. Expected the Udir "
            "statistikkbank columns " + ", ".join(_CANONICAL_HEADER.values()),
            row=line,
        )
    if unknown:
        warnings.warn(
            f"{path}: ignoring unknown column(s) {', '.join(map(repr, unknown))}",
            EuExportWarning,
            stacklevel=3,
        )
    return index, labels


_normalise_cached = lru_cache(maxsize=1024)(normalise_name)


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _parse_record(
    cells: dict[str, str], catalogue: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """Typed fields of one record and its cell errors as (column, value, reason)."""
    out: dict[str, Any] = {}
    errors: list[tuple[str, str, str]] = []

    level = _normalise_cached(cells["level"])
    out["level"] = _LEVEL_NAMES.get(level, level)  # unknown names are left for the schema

    code = cells["unit_code"]
    for space in _SPACES:
        code = code.replace(space, "")
    out["unit_code"] = code or None
    out["unit_name"] = cells["unit_name"] or None

    try:
        out["school_year"], out["survey_year"], out["term"] = parse_school_year(
            cells["school_year"]
        )
        out["series_version"] = series_version(out["term"])
    except ValueError as exc:
        errors.append(("school_year", cells["school_year"], str(exc)))

    try:
        out["trinn"] = parse_trinn(cells["trinn"])
    except ValueError as exc:
        errors.append(("trinn", cells["trinn"], str(exc)))

    indicator = catalogue.get(_normalise_cached(cells["indicator"]))
    if indicator is None:
        names = ", ".join(sorted(v["indicator"] for v in catalogue.values()))
        errors.append(
            (
                "indicator",
                cells["indicator"],
                f"unknown indicator; expected one of: {names} "
                f"(add new ones to lmp_analytics/reference/{INDICATOR_FILE})",
            )
        )
    else:
        out["indicator_code"] = indicator["indicator_code"]
        out["indicator"] = indicator["indicator"]
        out["value_type"] = indicator["value_type"]

    raw_value = cells["value"]
    if raw_value == SUPPRESSED:
        out["value"], out["suppressed"] = None, True
    elif raw_value == "":
        errors.append(("value", raw_value, "empty; expected a number or '*' (suppressed)"))
    else:
        try:
            is_pct = indicator is not None and indicator["value_type"] == "pct"
            text = raw_value.removesuffix("%").rstrip() if is_pct else raw_value
            out["value"], out["suppressed"] = parse_number(text), False
        except ValueError as exc:
            errors.append(("value", raw_value, f"{exc}, or '*' for a suppressed cell"))

    raw_n = cells["n_answered"]
    if raw_n in ("", SUPPRESSED):
        out["n_answered"] = None
    else:
        try:
            out["n_answered"] = parse_count(raw_n)
        except ValueError as exc:
            errors.append(("n_answered", raw_n, f"{exc}, empty or '*'"))
    out["kjonn"], out["eierform"], out["preliminary"] = "alle", "alle", False
    return out, errors


def _flag_duplicates(frame: pl.DataFrame, labels: dict[str, str]) -> list[RowProblem]:
    keys = ["level", "unit_code", "school_year", "trinn", "indicator_code", "kjonn", "eierform"]
    marked = frame.with_columns(
        pl.col("source_row").min().over(keys).alias("_first"),
    ).filter(pl.col("source_row") != pl.col("_first"))
    what = ", ".join(labels[k] for k in ("level", "unit_code", "school_year", "trinn", "indicator"))
    return [
        RowProblem(
            row["source_file"],
            row["source_row"],
            labels["indicator"],
            row["indicator"],
            f"duplicate of row {row['_first']} (same {what}); only the first is kept",
        )
        for row in marked.iter_rows(named=True)
    ]


def read_eu_export_with_problems(
    path: str | os.PathLike[str], roster: pl.DataFrame | None = None
) -> EuExport:
    """Read one Elevundersøkelsen file in any accepted layout (detected from its header: the
    statistics bank's export, Skoleporten's download, or this package's own layout); bad rows
    are returned as problems, not raised. ``roster`` (``skole``, ``skole_orgnr``,
    ``kommunenummer``) lets Skoleporten's school names be matched to organisation numbers.

    ``results`` has the columns of :data:`~lmp_analytics.national.schema.RESULT_SCHEMA`:
    level (nasjon/fylke/kommune/skole), unit_code (null for nasjon; leading zeros kept),
    unit_name, school_year (``2024-25``), survey_year (year the survey ran: the autumn year
    from 2013), term (``2024H``; ``2012V`` for the old spring surveys), series_version,
    trinn (5-13, Vg1 = 11; null = all grades), indicator_code, indicator, value_type
    (``pct``/``score_1_5``), value (null iff suppressed), n_answered, suppressed,
    source_file, source_row, kjonn (alle/jenter/gutter), eierform (alle/offentlig/privat),
    preliminary. ``problems`` has source_file, row, column, value, reason.
    """
    file = Path(path)
    if not _is_legacy(file):
        return _read_published(file, roster)
    name = str(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise FileRejected(name, f"cannot be read: {exc.strerror or exc}") from exc
    text, encoding = _decode(file, raw)
    if not text.strip():
        raise FileRejected(name, "is empty; expected a header row and data rows")

    first_line = next(line for line in text.splitlines() if line.strip())
    delimiter = _sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    header: list[str] | None = None
    index: dict[str, int] = {}
    labels: dict[str, str] = {}
    catalogue = {row["name_key"]: row for row in indicator_catalogue().iter_rows(named=True)}
    rows: list[dict[str, Any]] = []
    problems: list[RowProblem] = []
    raw_cells: dict[int, dict[str, str]] = {}  # line -> header text -> cell, for messages
    legacy_warnings: list[str] = []
    line_end = 0
    for record in reader:
        line = line_end + 1
        line_end = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            header = record
            index, labels = _map_header(name, header, line)
            continue
        if len(record) != len(header) and (
            len(record) < len(header) or any(c.strip() for c in record[len(header) :])
        ):
            problems.append(
                RowProblem(
                    name,
                    line,
                    None,
                    delimiter.join(record),
                    f"has {len(record)} cells but the header has {len(header)}; expected "
                    f"'{delimiter}'-separated cells (an unquoted '{delimiter}' or a missing cell?)",
                )
            )
            continue
        cells = {col: _clean(record[i]) for col, i in index.items()}
        parsed, errors = _parse_record(cells, catalogue)
        code, level = parsed.get("unit_code"), parsed.get("level")
        if not errors and code and code.isdigit() and len(code) == _CODE_WIDTH.get(level, 0):
            parsed["unit_code"], unit_errors, warns = _registry_unit(
                level, code, "unit_code", line)
            errors += unit_errors
            legacy_warnings += warns
        if errors:
            problems.extend(
                RowProblem(name, line, labels[col], value, reason) for col, value, reason in errors
            )
            continue
        parsed["source_file"] = name
        parsed["source_row"] = line
        rows.append(parsed)
        raw_cells[line] = {labels[col]: text for col, text in cells.items()}

    if header is None:  # pragma: no cover - text.strip() above guarantees a header
        raise FileRejected(name, "has no header row")
    frame = (
        pl.DataFrame(rows, schema=RESULT_SCHEMA, orient="row")
        if rows
        else pl.DataFrame(schema=RESULT_SCHEMA)
    )
    frame = frame.select(list(RESULT_SCHEMA))
    valid, schema_problems = validate_results(frame, labels)
    problems.extend(  # show the cell as written in the file, not as parsed
        replace(p, value=raw_cells[p.row].get(p.column or "", p.value)) for p in schema_problems
    )
    duplicates = _flag_duplicates(valid, labels)
    problems.extend(duplicates)
    if duplicates:
        dropped = {p.row for p in duplicates}
        valid = valid.filter(~pl.col("source_row").is_in(list(dropped)))
    return EuExport(
        results=valid.sort("source_row"),
        problems=problems_frame(problems),
        source_file=name,
        encoding=encoding,
        delimiter=delimiter,
        rows_read=len(rows) + len({p.row for p in problems}),
        warnings=tuple(legacy_warnings),
    )


def _is_legacy(file: Path) -> bool:
    """True for a CSV in this package's own layout (Skoleår;Enhetsnivå;…;Indikator;Verdi)."""
    if file.suffix.lower() not in (".csv", ".txt", ".tsv"):
        return False
    if not file.is_file():
        return True  # the package's reader names the file that cannot be read
    try:
        text, _ = _decode(file, file.read_bytes()[:65536])
    except FileRejected:
        return True  # let the reader of the package's layout explain it
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    header = {normalise_column(h) for h in
              next(csv.reader([line], delimiter=_sniff_delimiter(line)), [])}
    if header & {"enhetnivaa", "skoleaarnavn", "indikator/delskar", "periode"}:
        return False
    return bool(header & LEGACY_KEYS)


def _catalogue_maps() -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    rows = list(indicator_catalogue().iter_rows(named=True))
    by_code = {r["udir_code"]: r for r in rows if r["udir_code"]}
    by_code.update({r["indicator_code"]: r for r in rows})
    return by_code, {r["name_key"]: r for r in rows}


def _registry_unit(
    level: str | None, code: str | None, column: str, line: int
) -> tuple[str | None, list[tuple[str, str, str]], list[str]]:
    """The unit code to store (a retired kommunenummer becomes its successor, so results pair
    across the 2024 renumbering), errors and warnings, checked against the registries."""
    if level == "nasjon":
        return None, [], []
    if code is None:
        return None, [(column, "", f"a unit code for level '{level}' (the cell is empty)")], []
    if level == "skole":
        why = orgnr_problem(code)
        return code, ([(column, code, why)] if why else []), []
    check = (check_kommunenummer(code, national=True) if level == "kommune"
             else check_fylkesnummer(code, national=True))
    if check.status == "retired":
        if check.code is None:  # a county of 2020-2023: its own number stays valid for its years
            return code, [], []
        return check.code, [], [f"row {line}, column '{column}': {check.message}"]
    if not check.ok:
        return None, [(column, code, check.message or "")], []
    return code, [], []


def _unit(cells: Cells) -> tuple[str | None, list[tuple[str, str, str]], list[str]]:
    return _registry_unit(cells.level, cells.unit_code, cells.unit_column, cells.line)


_CODE_WIDTH = {"fylke": 2, "kommune": 4, "skole": 9}


def _parse_cells(
    cells: Cells, by_code: dict[str, dict[str, Any]], by_name: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any] | None, list[tuple[str, str, str]], list[str]]:
    """Typed fields of one published cell, its errors (column, value, reason) and warnings.
    ``None`` without errors: the cell holds no data ('.' or empty) and is skipped."""
    if cells.problem:
        return None, [cells.problem], []
    errors: list[tuple[str, str, str]] = []
    out: dict[str, Any] = {"unit_name": cells.unit_name}
    if cells.level is None:
        return None, [("EnhetNivaa", cells.level_text,
                       "1 (nasjon), 2 (fylke), 3 (kommune) or 4 (skole)")], []
    out["level"] = cells.level
    out["unit_code"], unit_errors, warnings = _unit(cells)
    errors += unit_errors

    year_text = cells.school_year
    out["preliminary"] = bool(PRELIMINARY_RE.match(year_text))
    try:
        out["school_year"], out["survey_year"], out["term"] = parse_school_year(
            PRELIMINARY_RE.sub("", year_text))
        out["series_version"] = series_version(out["term"])
    except ValueError as exc:
        errors.append(("Skoleår", year_text, f"{exc} (or 'Foreløpige tall 2025-26')"))
    try:
        out["trinn"] = parse_trinn(cells.trinn or "Alle trinn")
    except ValueError as exc:
        errors.append(("Trinn", cells.trinn, str(exc)))

    known = (by_code.get(cells.indicator_code or "")
             or by_name.get(_normalise_cached(cells.indicator_name)))
    value_type = cells.value_type or (known["value_type"] if known else None)
    if known is not None:
        out["indicator_code"], out["indicator"] = known["indicator_code"], known["indicator"]
        if value_type != known["value_type"]:
            kinds = {"pct": "a share in percent", "score_1_5": "a mean index (1-5)"}
            errors.append((cells.value_column, cells.value,
                           f"{kinds[known['value_type']]} for '{known['indicator']}'; the file "
                           f"gives it as {kinds.get(value_type or '', 'another measure')} "
                           "(a share and a mean index are never mixed)"))
    elif cells.indicator_code:
        out["indicator_code"] = cells.indicator_code
        out["indicator"] = cells.indicator_name or cells.indicator_code
    else:
        names = ", ".join(sorted(by_name[k]["indicator"] for k in by_name))
        errors.append(("Indikator", cells.indicator_name,
                       f"a known indicator ({names}); add new ones to "
                       f"lmp_analytics/reference/{INDICATOR_FILE}"))
    if value_type is None and not errors:
        errors.append((cells.value_column, cells.value,
                       "a known measure: say in 'Måleenhet' whether it is 'prosent' or 'poeng'"))
    out["value_type"] = value_type

    raw = cells.value
    if raw == SUPPRESSED:
        out["value"], out["suppressed"] = None, True
    elif raw in NO_DATA:
        return None, [], []
    else:
        try:
            text = raw.removesuffix("%").rstrip() if value_type == "pct" else raw
            out["value"], out["suppressed"] = parse_number(text), False
        except ValueError as exc:
            errors.append((cells.value_column, raw, f"{exc}, '*' (suppressed) or '.' (no data)"))
    n = cells.n_answered
    if n in ("", SUPPRESSED, "."):
        out["n_answered"] = None
    else:
        try:
            out["n_answered"] = parse_count(n)
        except ValueError as exc:
            errors.append(("AntallBesvart", n, f"{exc}, empty or '*'"))
    for field, mapping, column in (("kjonn", _KJONN, "Kjønn"), ("eierform", _EIERFORM, "Eierform")):
        raw_text = getattr(cells, field)
        value = mapping.get(_normalise_cached(raw_text))
        if value is None:
            errors.append((column, raw_text, "expected " + _EXPECTED_BREAKDOWN[field]))
        out[field] = value
    return out, errors, warnings


_EXPECTED_BREAKDOWN = {
    "kjonn": "'Alle kjønn' (or 'Begge kjønn'), 'Jenter' or 'Gutter'",
    "eierform": "'Alle eierformer', 'Offentlig' or 'Privat'",
}


def _read_published(file: Path, roster: pl.DataFrame | None) -> EuExport:
    """A statistics-bank export or a Skoleporten download (see :mod:`.layouts`)."""
    name = str(file)
    table = read_any(file)
    layout = detect(table)
    if layout is None:
        found = ", ".join(repr(table.original_columns.get(c, c)) for c in table.frame.columns)
        raise FileRejected(
            name,
            f"is not an Elevundersøkelsen layout this package reads; found columns {found}. "
            "Expected the statistics bank's export (Skoleaarnavn, EnhetNivaa, …, AndelMobbet or "
            "Score, AntallBesvart), Skoleporten's nedlasting.csv (Enhetsnavn;…;Indikator/delskår;"
            "Periode;…;Verdi;Måleenhet) or " + ", ".join(_CANONICAL_HEADER.values()),
            row=table.header_line,
        )
    all_cells = statbank_cells(table) if layout == STATBANK else skoleporten_cells(table, roster)
    by_code, by_name = _catalogue_maps()
    rows: list[dict[str, Any]] = []
    problems: list[RowProblem] = []
    warnings_out: list[str] = []
    without_data = 0
    for cells in all_cells:
        parsed, errors, warns = _parse_cells(cells, by_code, by_name)
        if errors:
            problems += [RowProblem(name, cells.line, c, v, r) for c, v, r in errors]
            continue
        if parsed is None:
            without_data += 1
            continue
        warnings_out += warns
        parsed["source_file"], parsed["source_row"] = name, cells.line
        rows.append(parsed)
    frame = (pl.DataFrame(rows, schema=RESULT_SCHEMA, orient="row") if rows
             else pl.DataFrame(schema=RESULT_SCHEMA)).select(list(RESULT_SCHEMA))
    labels = {"level": "EnhetNivaa", "unit_code": "Enhetskode", "school_year": "Skoleår",
              "trinn": "Trinn", "indicator": "Indikator", "value": "Verdi",
              "n_answered": "AntallBesvart"}
    valid, schema_problems = validate_results(frame, labels)
    problems += schema_problems
    duplicates = _flag_duplicates(valid, labels)
    problems += duplicates
    if duplicates:
        valid = valid.filter(~pl.col("source_row").is_in([p.row for p in duplicates]))
    if len(warnings_out) > 5:
        warnings_out = [*warnings_out[:5], f"… and {len(warnings_out) - 5} more retired numbers "
                        "read as their successors"]
    return EuExport(
        results=valid.sort("source_row"), problems=problems_frame(problems), source_file=name,
        encoding=table.encoding, delimiter=table.delimiter, layout=layout,
        file_format=table.file_format, warnings=tuple(warnings_out),
        rows_read=len(all_cells), rows_without_data=without_data,
    )


def read_eu_export(
    path: str | os.PathLike[str], roster: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Read one statistikkbank CSV export, refusing the whole file if any row is bad.

    Returns the ``results`` frame of :func:`read_eu_export_with_problems`; raises
    :class:`~lmp_analytics.errors.FileRejected` naming the first bad row and column.
    """
    export = read_eu_export_with_problems(path, roster)
    if export.problems.height:
        first = RowProblem(**export.problems.row(0, named=True))
        more = export.problems.height - 1
        reason = first.detail
        if more:
            reason += f" ({more} more problem{'s' if more > 1 else ''} in this file)"
        raise FileRejected(export.source_file, reason, row=first.row, column=first.column)
    return export.results
