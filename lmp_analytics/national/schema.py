"""The typed Elevundersøkelsen result frame and its pandera (polars) contract.

One row is one published cell: unit x school year x trinn x indicator. ``value`` is null exactly
when Udir suppressed the cell (``*``); a suppressed cell is never 0 and never back-calculated.
Failing rows become *problems* (source file, row, column, value, reason) for quarantine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from lmp_analytics.errors import Message
from lmp_analytics.presentation.messages import keyed_reason

LEVELS = ("nasjon", "fylke", "kommune", "skole")

#: Column -> dtype of the frame returned by the reader (order is the output order).
RESULT_SCHEMA: dict[str, pl.DataType] = {
    "level": pl.String(),
    "unit_code": pl.String(),
    "unit_name": pl.String(),
    "school_year": pl.String(),
    "survey_year": pl.Int32(),
    "term": pl.String(),
    "series_version": pl.String(),
    "trinn": pl.Int8(),
    "indicator_code": pl.String(),
    "indicator": pl.String(),
    "value_type": pl.String(),
    "value": pl.Float64(),
    "n_answered": pl.Int64(),
    "suppressed": pl.Boolean(),
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "kjonn": pl.String(),
    "eierform": pl.String(),
    "preliminary": pl.Boolean(),
}

#: Breakdowns kept as published (``alle`` = the total row).
KJONN_VALUES = ("alle", "jenter", "gutter")
EIERFORM_VALUES = ("alle", "offentlig", "privat")

#: Result column -> the Udir export column it comes from (used in messages).
UDIR_COLUMN = {
    "level": "Enhetsnivå",
    "unit_code": "Enhetskode",
    "unit_name": "Enhetsnavn",
    "school_year": "Skoleår",
    "survey_year": "Skoleår",
    "term": "Skoleår",
    "series_version": "Skoleår",
    "trinn": "Trinn",
    "indicator_code": "Indikator",
    "indicator": "Indikator",
    "value_type": "Indikator",
    "value": "Verdi",
    "n_answered": "Antall besvart",
    "suppressed": "Verdi",
    "kjonn": "Kjønn",
    "eierform": "Eierform",
    "preliminary": "Skoleår",
}

PROBLEM_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "row": pl.Int64(),
    "column": pl.String(),
    "value": pl.String(),
    "reason": pl.String(),
}


@dataclass(frozen=True)
class RowProblem:
    """Why one row (1-based line in the file, header = 1) was not accepted."""

    source_file: str
    row: int | None
    column: str | None
    value: str | None
    reason: str

    @property
    def detail(self) -> str:
        """The value (if any) and the reason, e.g. ``'301': not a kommunenummer: ...``."""
        return self.reason if self.value is None else f"{self.value!r}: {self.reason}"

    @property
    def message(self) -> str:
        """Full sentence for a person: file, row, column, value, reason."""
        where = self.source_file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.detail}"

    @property
    def said(self) -> str:
        """:attr:`message` as a :class:`~lmp_analytics.errors.Message` keyed for the CLI
        (``cli.notice.eu_problem*``; the reason keyed by its English text,
        :func:`~lmp_analytics.presentation.messages.keyed_reason`), so the reader gets it in
        ``LMP_LANG``; ``str()`` is :attr:`message`."""
        values: dict[str, object] = {"file": self.source_file, "detail": self.said_detail}
        key = "notice.eu_problem"
        if self.row is not None:
            key, values["row"] = key + "_row", self.row
        if self.column is not None:
            key = "notice.eu_problem_cell" if self.row is not None else key + "_column"
            values["column"] = self.column
        return Message(self.message, key, values)

    @property
    def said_detail(self) -> str:
        """:attr:`detail` keyed for the CLI like :attr:`said`."""
        reason = keyed_reason(self.reason)
        if self.value is None:
            return reason
        return Message(self.detail, "notice.eu_value_reason",
                       {"value": repr(self.value), "reason": reason})


def totals_only(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows for all genders and all owners (the breakdowns are kept in the warehouse but a
    benchmark compares totals). Frames without the breakdown columns are returned as they are."""
    if "kjonn" not in frame.columns:
        return frame
    return frame.filter((pl.col("kjonn") == "alle") & (pl.col("eierform") == "alle"))


def problems_frame(problems: list[RowProblem]) -> pl.DataFrame:
    """Problems as a frame with :data:`PROBLEM_SCHEMA`, ordered by row."""
    return pl.DataFrame(
        [(p.source_file, p.row, p.column, p.value, p.reason) for p in problems],
        schema=PROBLEM_SCHEMA,
        orient="row",
    ).sort("row", nulls_last=True, maintain_order=True)


def _digits(n: int) -> pl.Expr:
    return pl.col("unit_code").str.contains(rf"^\d{{{n}}}$").fill_null(False)


def _level_rule(level: str, ok: pl.Expr, data: PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(((pl.col("level") != level) | ok).fill_null(False))


class EuResultSchema(pa.DataFrameModel):
    """Contract for the Elevundersøkelsen result frame (DOMAIN §8.2 ``eu_result``, §8.6)."""

    level: str = pa.Field(isin=list(LEVELS))
    unit_code: str = pa.Field(nullable=True)
    unit_name: str = pa.Field(nullable=True)
    school_year: str = pa.Field(str_matches=r"^\d{4}-\d{2}$")
    survey_year: pl.Int32 = pa.Field(ge=2000, le=2100)
    term: str = pa.Field(str_matches=r"^\d{4}[HV]$")
    series_version: str
    trinn: pl.Int8 = pa.Field(nullable=True, in_range={"min_value": 5, "max_value": 13})
    indicator_code: str
    indicator: str
    value_type: str = pa.Field(isin=["pct", "score_1_5"])
    value: pl.Float64 = pa.Field(nullable=True)
    n_answered: pl.Int64 = pa.Field(nullable=True, ge=0)
    suppressed: bool
    source_file: str
    source_row: pl.Int64 = pa.Field(ge=1)
    kjonn: str = pa.Field(isin=list(KJONN_VALUES))
    eierform: str = pa.Field(isin=list(EIERFORM_VALUES))
    preliminary: bool

    class Config:
        strict = True

    @pa.dataframe_check(name="value_null_iff_suppressed")
    def value_null_iff_suppressed(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("value").is_null() == pl.col("suppressed")).fill_null(False)
        )

    @pa.dataframe_check(name="pct_in_0_100")
    def pct_in_0_100(cls, data: PolarsData) -> pl.LazyFrame:
        ok = pl.col("value").is_null() | pl.col("value").is_between(0, 100)
        return data.lazyframe.select(((pl.col("value_type") != "pct") | ok).fill_null(False))

    @pa.dataframe_check(name="score_in_1_5")
    def score_in_1_5(cls, data: PolarsData) -> pl.LazyFrame:
        ok = pl.col("value").is_null() | pl.col("value").is_between(1, 5)
        return data.lazyframe.select(((pl.col("value_type") != "score_1_5") | ok).fill_null(False))

    @pa.dataframe_check(name="nasjon_without_code")
    def nasjon_without_code(cls, data: PolarsData) -> pl.LazyFrame:
        return _level_rule("nasjon", pl.col("unit_code").is_null(), data)

    @pa.dataframe_check(name="fylkesnummer_2_digits")
    def fylkesnummer_2_digits(cls, data: PolarsData) -> pl.LazyFrame:
        return _level_rule("fylke", _digits(2), data)

    @pa.dataframe_check(name="kommunenummer_4_digits")
    def kommunenummer_4_digits(cls, data: PolarsData) -> pl.LazyFrame:
        return _level_rule("kommune", _digits(4), data)

    @pa.dataframe_check(name="orgnr_9_digits")
    def orgnr_9_digits(cls, data: PolarsData) -> pl.LazyFrame:
        return _level_rule("skole", _digits(9), data)


def _code_reason(kind: str, width: int, example: str) -> Callable[[dict[str, Any]], str]:
    def reason(row: dict[str, Any]) -> str:
        code = row.get("unit_code")
        if code is None:
            return f"{kind} missing: expected {width} digits for level '{row['level']}'"
        text = f"not a {kind}: expected {width} digits (e.g. '{example}')"
        if code.isdigit() and len(code) == width - 1:
            text += (
                f"; it has {len(code)} digits and probably lost its leading zero "
                f"(write '0{code}'; open the export as text, not via Excel)"
            )
        return text

    return reason


def _range_reason(low: int, high: int, what: str) -> Callable[[dict[str, Any]], str]:
    def reason(row: dict[str, Any]) -> str:
        return f"outside {low}-{high}: '{row['indicator']}' is {what}"

    return reason


# check name -> (result column the message is about, reason builder)
_FRAME_CHECKS: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "value_null_iff_suppressed": (
        "value",
        lambda row: (
            "a value must be present unless the cell is suppressed ('*'), and a suppressed "
            f"cell must have no value (suppressed={row['suppressed']!r})"
        ),
    ),
    "pct_in_0_100": ("value", _range_reason(0, 100, "a percentage")),
    "score_in_1_5": ("value", _range_reason(1, 5, "an index on the 1-5 scale")),
    "nasjon_without_code": (
        "unit_code",
        lambda row: "expected an empty cell for level 'Nasjonalt'",
    ),
    "fylkesnummer_2_digits": ("unit_code", _code_reason("fylkesnummer", 2, "03")),
    "kommunenummer_4_digits": ("unit_code", _code_reason("kommunenummer", 4, "0301")),
    "orgnr_9_digits": ("unit_code", _code_reason("organisasjonsnummer (orgnr)", 9, "974123452")),
}

_EXPECTED = {
    "level": "one of Nasjonalt, Fylke, Kommune, Skole",
    "school_year": "a school year like '2024-25'",
    "survey_year": "a survey year between 2000 and 2100",
    "term": "a term like '2024H'",
    "trinn": "5.-10. trinn, Vg1-Vg3 (5-13) or 'Alle trinn'; Elevundersøkelsen starts at 5. trinn",
    "value_type": "'pct' or 'score_1_5'",
    "n_answered": "a whole number >= 0",
    "source_row": "a line number >= 1",
    "kjonn": "'Alle kjønn', 'Jenter' or 'Gutter'",
    "eierform": "'Alle eierformer', 'Offentlig' or 'Privat'",
}


def validate_results(
    frame: pl.DataFrame, column_labels: Mapping[str, str] | None = None
) -> tuple[pl.DataFrame, list[RowProblem]]:
    """Split ``frame`` into rows passing :class:`EuResultSchema` and one problem per failure.

    ``column_labels`` maps result columns to the header text of the source file, so messages
    name the column the user sees; defaults to the Udir column names. A frame with missing or
    mistyped columns is a programming error and raises pandera's ``SchemaErrors``.
    """
    labels = {**UDIR_COLUMN, **(column_labels or {})}
    try:
        EuResultSchema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        if cases["index"].null_count():
            raise
        problems: list[RowProblem] = []
        bad: set[int] = set()
        for case in cases.iter_rows(named=True):
            index = int(case["index"])
            row = frame.row(index, named=True)
            bad.add(index)
            if case["schema_context"] == "DataFrameSchema":
                column, reason = _FRAME_CHECKS[case["check"]]
                text = reason(row)
            else:
                column = case["column"]
                text = f"expected {_EXPECTED.get(column, case['check'])}"
            problems.append(
                RowProblem(
                    source_file=row["source_file"],
                    row=row["source_row"],
                    column=labels.get(column, column),
                    value=None if row[column] is None else str(row[column]),
                    reason=text,
                )
            )
        keep = pl.Series([i not in bad for i in range(frame.height)])
        return frame.filter(keep), problems
    return frame, []
