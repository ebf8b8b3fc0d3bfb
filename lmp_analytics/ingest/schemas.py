"""Pandera contracts (polars backend) for every input and for the rows the warehouse stores.

Column-level rules live here as pandera schemas whose ``error`` texts say what was expected, in
words a school administrator understands. :func:`collect_failures` turns pandera's failure cases
into :class:`RowFailure` records (0-based row index, column, reason) for the quarantine.
Cross-column rules (a pupil twice in a round, ``formal`` disagreeing with ``versjon``) are plain
polars expressions in :mod:`lmp_analytics.ingest.mapping`, reported in the same record type.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from lmp_analytics.codebook import Codebook
from lmp_analytics.ingest.reasons import COLUMN_CODES, OTHER

KJONN_VALUES = ("jente", "gutt", "annet")
ROLLE_VALUES = ("deltaker", "sammenligning")
TRINN_MIN, TRINN_MAX = 3, 13
EARLIEST_DATE = dt.date(2000, 1, 1)  # no Spekter round is older; an earlier date is a typo
MAX_LABEL_CHARS = 40  # gruppe and runde are short labels (7A, 2); a longer one is garbage
UNKNOWN_CODE = -99  # a label that matched no answer option; never stored
EMPTY_CELL = "a value (the cell is empty)"
_BUILTIN_REASONS = {"not_nullable": EMPTY_CELL}


@dataclass(frozen=True)
class RowFailure:
    """One failed cell: 0-based data row index, normalised column name, what was expected and
    its stable code (:mod:`lmp_analytics.ingest.reasons`)."""

    index: int
    column: str
    reason: str
    code: str = OTHER


def collect_failures(
    schema: pa.DataFrameSchema, frame: pl.DataFrame, *, default_code: str = OTHER
) -> list[RowFailure]:
    """Validate ``frame`` (collected, so data checks run) and list every failing cell.

    Codes: ``missing_value`` for an empty required cell, else the column's code
    (:data:`~lmp_analytics.ingest.reasons.COLUMN_CODES`), else ``default_code``."""
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as err:
        cases = err.failure_cases
        out: list[RowFailure] = []
        for row in cases.iter_rows(named=True):
            column = row.get("column") or ""
            index = row.get("index")
            check = str(row.get("check") or "")
            if index is None:
                # A column-level problem (missing column, wrong dtype): a bug in mapping, not data.
                raise RuntimeError(f"schema problem in column '{column}': {check}") from err
            code = ("missing_value" if check == "not_nullable"
                    else COLUMN_CODES.get(column, default_code))
            out.append(RowFailure(int(index), column, _BUILTIN_REASONS.get(check, check), code))
        return out
    return []


def _col(dtype, *checks: pa.Check, nullable: bool = True) -> pa.Column:
    return pa.Column(dtype, checks=list(checks), nullable=nullable, coerce=False)


def roster_schema() -> pa.DataFrameSchema:
    """``program.csv`` after typing: one row per school."""
    return pa.DataFrameSchema(
        {
            "kommunenummer": _col(
                pl.String,
                pa.Check.str_matches(
                    r"^\d{4}$",
                    error="4 digits with leading zero kept (e.g. 0301); a 3-digit number "
                    "probably lost its leading zero in Excel",
                ),
                nullable=False,
            ),
            "kommune": _col(pl.String, nullable=False),
            "skole_orgnr": _col(
                pl.String,
                pa.Check.str_matches(r"^\d{9}$", error="a 9-digit organisation number"),
                nullable=False,
            ),
            "skole": _col(pl.String, nullable=False),
            "rolle": _col(
                pl.String,
                pa.Check.isin(ROLLE_VALUES, error="'deltaker' or 'sammenligning'"),
                nullable=False,
            ),
            "pulje": _col(pl.Int64, pa.Check.ge(1, error="a pulje number of 1 or more")),
            "oppstart": _col(
                pl.String,
                pa.Check.str_matches(r"^\d{4}[HV]$", error="a term such as 2024H or 2025V"),
            ),
        },
        strict=True,
        name="program.csv",
    )


def phases_schema() -> pa.DataFrameSchema:
    """``faser.csv``: local overrides of single phases."""
    return pa.DataFrameSchema(
        {
            "skole_orgnr": _col(
                pl.String,
                pa.Check.str_matches(r"^\d{9}$", error="a 9-digit organisation number"),
                nullable=False,
            ),
            "fase": _col(pl.Int64, pa.Check.in_range(1, 4, error="a phase from 1 to 4"),
                         nullable=False),
            "termin": _col(
                pl.String,
                pa.Check.str_matches(r"^\d{4}[HV]$", error="a term such as 2024H or 2025V"),
                nullable=False,
            ),
        },
        strict=True,
        name="faser.csv",
    )


def enrolment_schema() -> pa.DataFrameSchema:
    """``elevtall.csv``: pupils enrolled per school, school year and grade."""
    return pa.DataFrameSchema(
        {
            "skole_orgnr": _col(
                pl.String,
                pa.Check.str_matches(r"^\d{9}$", error="a 9-digit organisation number"),
                nullable=False,
            ),
            "skoleaar": _col(
                pl.String,
                pa.Check.str_matches(r"^\d{4}-\d{2}$", error="a school year such as 2024-25"),
                nullable=False,
            ),
            "trinn": _col(pl.Int64, pa.Check.in_range(1, 13, error="a grade from 1 to 13"),
                          nullable=False),
            "elever": _col(pl.Int64, pa.Check.ge(0, error="a count of 0 or more"),
                           nullable=False),
        },
        strict=True,
        name="elevtall.csv",
    )


def _label_check() -> pa.Check:
    return pa.Check.str_length(max_value=MAX_LABEL_CHARS,
                               error=f"a short label (at most {MAX_LABEL_CHARS} characters)")


def early_date_reason() -> str:
    """What a date before :data:`EARLIEST_DATE` should have been (quarantine reason)."""
    return f"a survey date on or after {EARLIEST_DATE} (and not in the future)"


def spekter_schema(
    item_scales: dict[str, tuple[int, ...]],
    versions: list[str],
    today: dt.date,
    item_labels: dict[str, str] | None = None,
) -> pa.DataFrameSchema:
    """One Spekter export after mapping: one row per pupil, items as answer codes.

    ``item_labels`` (item -> readable list of its answer labels) makes the messages say which
    answers the item takes.
    """
    item_labels = item_labels or {}
    columns: dict[str, pa.Column] = {
        "skole_orgnr": _col(pl.String, nullable=False),
        "gruppe": _col(pl.String, _label_check(), nullable=False),
        "trinn": _col(
            pl.Int16,
            pa.Check.in_range(
                TRINN_MIN, TRINN_MAX, error="a grade from 3 to 10, or Vg1-Vg3 (Spekter starts in 3)"
            ),
            nullable=False,
        ),
        "elev": _col(pl.String, nullable=False),
        "dato": _col(
            pl.Date,
            pa.Check.le(today, error=f"a survey date not in the future (today is {today})"),
            nullable=False,
        ),
        "versjon": _col(pl.String, pa.Check.isin(versions, error="a known instrument version"),
                        nullable=False),
        "kjonn": _col(pl.String, pa.Check.isin(KJONN_VALUES, error="jente, gutt, annet or empty")),
        "formal": _col(pl.String),
        "runde": _col(pl.String, _label_check(), nullable=False),
    }
    for item, codes in item_scales.items():
        columns[item] = _col(
            pl.Int16,
            pa.Check.isin(
                list(codes),
                error=f"an answer on the item's scale ({item_labels[item]}; or the codes "
                f"{min(codes)}-{max(codes)}; empty = skipped)" if item in item_labels
                else f"an answer on the item scale (codes {list(codes)})",
            ),
        )
    return pa.DataFrameSchema(columns, strict=False, name="spekter export")


def item_scale_codes(books: dict[str, Codebook]) -> dict[str, tuple[int, ...]]:
    """Allowed codes per answer item across versions (an item keeps its scale across versions)."""
    out: dict[str, tuple[int, ...]] = {}
    for book in books.values():
        for item in book.answer_items:
            out[item.code] = book.scales[item.scale].codes
    return out


def item_scale_labels(books: dict[str, Codebook]) -> dict[str, str]:
    """Per answer item, its labels in order (``'Nei', 'Ja'``), for messages."""
    out: dict[str, str] = {}
    for book in books.values():
        for item in book.answer_items:
            labels = book.scales[item.scale].labels
            out[item.code] = ", ".join(f"'{lab.nb}'" for lab in labels)
    return out


def answer_table_schema() -> pa.DataFrameSchema:
    """``fct_answer`` rows as loaded: long format, NULL value = asked but skipped."""
    return pa.DataFrameSchema(
        {
            "round_id": _col(pl.String, nullable=False),
            "gruppe": _col(pl.String, _label_check(), nullable=False),
            "elev": _col(pl.String, pa.Check.str_length(20, 20), nullable=False),
            "item": _col(pl.String, nullable=False),
            "value": _col(pl.Int16, pa.Check.in_range(0, 5)),
        },
        strict=True,
        name="fct_answer",
    )
