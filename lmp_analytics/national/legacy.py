"""This package's own CSV layout of Elevundersøkelsen results (Skoleår;Enhetsnivå;Enhetskode;
Enhetsnavn;Trinn;Indikator;Verdi;Antall besvart), the statistikkbank export of DATA_CONTRACT §3.

Format: ``;``-separated (``,`` and tab are sniffed too), decimal comma, space or non-breaking
space as thousands separator, ``*`` for a suppressed cell; UTF-8, UTF-8 with BOM or
Windows-1252 (sniffed: strict UTF-8 first, then cp1252). Column names are case- and
whitespace-insensitive; unknown columns are ignored with a warning.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl

from lmp_analytics.errors import FileRejected
from lmp_analytics.ingest.readers import normalise_column, sniff_delimiter
from lmp_analytics.ingest.readers.csv_text import utf8_or_cp1252
from lmp_analytics.national.export import EuExport, EuExportWarning, flag_duplicates
from lmp_analytics.national.parsing import (
    CODE_WIDTH,
    SPACES,
    SUPPRESSED,
    normalise_cached,
    parse_count,
    parse_number,
    parse_trinn,
    registry_unit,
)
from lmp_analytics.national.reference import INDICATOR_FILE, indicator_catalogue, normalise_name
from lmp_analytics.national.schema import (
    RESULT_SCHEMA,
    RowProblem,
    problems_frame,
    validate_results,
)
from lmp_analytics.national.series import parse_school_year, series_version
from lmp_analytics.presentation.messages import message, rejection

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
CANONICAL_HEADER = {
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
#: Delimiters of an Elevundersøkelsen export, in the order a tie goes to.
_DELIMITERS = (";", "\t", ",")


def _decode(path: Path, raw: bytes) -> tuple[str, str]:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise rejection(path, "eu_utf16", detail=exc) from exc
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            pass   # not UTF-8 after all: read as Windows-1252 below, BOM bytes included
    return utf8_or_cp1252(path, raw, "eu_encoding")


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
            raise rejection(path, "eu_column_twice", name=name.strip(), other=labels[column],
                            row=line, column=name.strip())
        index[column] = i
        labels[column] = name.strip()
    missing = [CANONICAL_HEADER[c] for c in _HEADERS if c not in index]
    if missing:
        found = ", ".join(repr(h.strip()) for h in header)
        raise rejection(path, "eu_missing_columns", missing=", ".join(missing), found=found,
                        expected=", ".join(CANONICAL_HEADER.values()), row=line)
    if unknown:
        warnings.warn(
            message("notice.eu_unknown_columns", path=path,
                    columns=", ".join(map(repr, unknown))),
            EuExportWarning,
            stacklevel=4,
        )
    return index, labels


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _parse_record(
    cells: dict[str, str], catalogue: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """Typed fields of one record and its cell errors as (column, value, reason)."""
    out: dict[str, Any] = {}
    errors: list[tuple[str, str, str]] = []

    level = normalise_cached(cells["level"])
    out["level"] = _LEVEL_NAMES.get(level, level)  # unknown names are left for the schema

    code = cells["unit_code"]
    for space in SPACES:
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

    indicator = catalogue.get(normalise_cached(cells["indicator"]))
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


def read_legacy(file: Path) -> EuExport:
    """Read one file in this package's own layout; bad rows are returned as problems (see
    :func:`lmp_analytics.national.reader.read_eu_export_with_problems`)."""
    name = str(file)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise rejection(name, "unreadable", detail=exc.strerror or exc) from exc
    text, encoding = _decode(file, raw)
    if not text.strip():
        raise rejection(name, "eu_empty")

    first_line = next(line for line in text.splitlines() if line.strip())
    delimiter = sniff_delimiter(first_line, _DELIMITERS)
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
        if not errors and code and code.isdigit() and len(code) == CODE_WIDTH.get(level, 0):
            parsed["unit_code"], unit_errors, warns = registry_unit(
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
        raise rejection(name, "no_header")
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
    duplicates = flag_duplicates(valid, labels)
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


def is_legacy(file: Path) -> bool:
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
              next(csv.reader([line], delimiter=sniff_delimiter(line, _DELIMITERS)), [])}
    if header & {"enhetnivaa", "skoleaarnavn", "indikator/delskar", "periode"}:
        return False
    return bool(header & LEGACY_KEYS)
