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
from lmp_analytics.national.reference import INDICATOR_FILE, indicator_catalogue, normalise_name
from lmp_analytics.national.schema import (
    RESULT_SCHEMA,
    RowProblem,
    problems_frame,
    validate_results,
)
from lmp_analytics.national.series import parse_school_year, series_version

SUPPRESSED = "*"

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
_TRINN_RE = re.compile(r"^(\d{1,2})\s*\.?\s*trinn$")
_VG_RE = re.compile(r"^vg\s*([1-3])$")
_DELIMITERS = (";", "\t", ",")


class EuExportWarning(UserWarning):
    """Something in an export was ignored (e.g. an unknown column)."""


@dataclass(frozen=True)
class EuExport:
    """A read export: accepted rows, rejected rows, and how the file was decoded."""

    results: pl.DataFrame
    problems: pl.DataFrame
    source_file: str
    encoding: str
    delimiter: str


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
    if m := _VG_RE.match(key):
        return 10 + int(m.group(1))
    raise ValueError("expected 'N. trinn' (5-10), 'Vg1'-'Vg3' or 'Alle trinn'")


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
    return out, errors


def _flag_duplicates(frame: pl.DataFrame, labels: dict[str, str]) -> list[RowProblem]:
    keys = ["level", "unit_code", "school_year", "trinn", "indicator_code"]
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


def read_eu_export_with_problems(path: str | os.PathLike[str]) -> EuExport:
    """Read one statistikkbank CSV export; bad rows are returned as problems, not raised.

    ``results`` has the columns of :data:`~lmp_analytics.national.schema.RESULT_SCHEMA`:
    level (nasjon/fylke/kommune/skole), unit_code (null for nasjon; leading zeros kept),
    unit_name, school_year (``2024-25``), survey_year (year the survey ran: the autumn year
    from 2013), term (``2024H``; ``2012V`` for the old spring surveys), series_version,
    trinn (5-13, Vg1 = 11; null = all grades), indicator_code, indicator, value_type
    (``pct``/``score_1_5``), value (null iff suppressed), n_answered, suppressed,
    source_file, source_row. ``problems`` has source_file, row, column, value, reason.
    """
    file = Path(path)
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
    )


def read_eu_export(path: str | os.PathLike[str]) -> pl.DataFrame:
    """Read one statistikkbank CSV export, refusing the whole file if any row is bad.

    Returns the ``results`` frame of :func:`read_eu_export_with_problems`; raises
    :class:`~lmp_analytics.errors.FileRejected` naming the first bad row and column.
    """
    export = read_eu_export_with_problems(path)
    if export.problems.height:
        first = RowProblem(**export.problems.row(0, named=True))
        more = export.problems.height - 1
        reason = first.detail
        if more:
            reason += f" ({more} more problem{'s' if more > 1 else ''} in this file)"
        raise FileRejected(export.source_file, reason, row=first.row, column=first.column)
    return export.results
