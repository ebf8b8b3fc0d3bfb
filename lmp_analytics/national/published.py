"""Elevundersøkelsen as Udir publishes it: the statistics bank's export and Skoleporten's
download (their layouts: :mod:`lmp_analytics.national.layouts`), cell by cell into result rows."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl

from lmp_analytics.national.export import EuExport, flag_duplicates
from lmp_analytics.national.layouts import (
    STATBANK,
    Cells,
    detect,
    read_any,
    skoleporten_cells,
    statbank_cells,
)
from lmp_analytics.national.legacy import CANONICAL_HEADER
from lmp_analytics.national.parsing import (
    NO_DATA,
    SUPPRESSED,
    normalise_cached,
    parse_count,
    parse_number,
    parse_trinn,
    registry_unit,
)
from lmp_analytics.national.reference import INDICATOR_FILE, indicator_catalogue
from lmp_analytics.national.schema import (
    RESULT_SCHEMA,
    RowProblem,
    problems_frame,
    validate_results,
)
from lmp_analytics.national.series import parse_school_year, series_version
from lmp_analytics.presentation.messages import message, rejection

PRELIMINARY_RE = re.compile(r"^\s*forel(ø|o|oe)pige\s+tall\s*:?\s*", re.IGNORECASE)
_KJONN = {"a": "alle", "alle": "alle", "alle kjønn": "alle", "begge kjønn": "alle",
          "totalt": "alle", "j": "jenter", "jente": "jenter", "jenter": "jenter",
          "g": "gutter", "gutt": "gutter", "gutter": "gutter"}
_EIERFORM = {"alle eierformer": "alle", "alle": "alle", "offentlig": "offentlig",
             "offentlig skole": "offentlig", "offentlige skoler": "offentlig",
             "offentlig eiet": "offentlig", "privat": "privat", "privat skole": "privat",
             "private skoler": "privat", "privat eiet": "privat"}


def _catalogue_maps() -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    rows = list(indicator_catalogue().iter_rows(named=True))
    by_code = {r["udir_code"]: r for r in rows if r["udir_code"]}
    by_code.update({r["indicator_code"]: r for r in rows})
    return by_code, {r["name_key"]: r for r in rows}


def _unit(cells: Cells) -> tuple[str | None, list[tuple[str, str, str]], list[str]]:
    return registry_unit(cells.level, cells.unit_code, cells.unit_column, cells.line)



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
             or by_name.get(normalise_cached(cells.indicator_name)))
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
        value = mapping.get(normalise_cached(raw_text))
        if value is None:
            errors.append((column, raw_text, "expected " + _EXPECTED_BREAKDOWN[field]))
        out[field] = value
    return out, errors, warnings


_EXPECTED_BREAKDOWN = {
    "kjonn": "'Alle kjønn' (or 'Begge kjønn'), 'Jenter' or 'Gutter'",
    "eierform": "'Alle eierformer', 'Offentlig' or 'Privat'",
}


def read_published(file: Path, roster: pl.DataFrame | None) -> EuExport:
    """A statistics-bank export or a Skoleporten download (see :mod:`.layouts`)."""
    name = str(file)
    table = read_any(file)
    layout = detect(table)
    if layout is None:
        found = ", ".join(repr(table.original_columns.get(c, c)) for c in table.frame.columns)
        raise rejection(name, "eu_layout", found=found,
                        legacy=", ".join(CANONICAL_HEADER.values()), row=table.header_line)
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
    duplicates = flag_duplicates(valid, labels)
    problems += duplicates
    if duplicates:
        valid = valid.filter(~pl.col("source_row").is_in([p.row for p in duplicates]))
    if len(warnings_out) > 5:
        warnings_out = [*warnings_out[:5],
                        message("notice.eu_more_retired", n=len(warnings_out) - 5)]
    return EuExport(
        results=valid.sort("source_row"), problems=problems_frame(problems), source_file=name,
        encoding=table.encoding, delimiter=table.delimiter, layout=layout,
        file_format=table.file_format, warnings=tuple(warnings_out),
        rows_read=len(all_cells), rows_without_data=without_data,
    )
