"""The programme roster (``program.csv``) and its optional companions ``faser.csv`` and
``elevtall.csv``. They are reference data: any invalid row rejects the file (RosterError), because
every Spekter file is checked against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from lmp_analytics.errors import RosterError
from lmp_analytics.ingest.readers import RawTable, check_duplicate_columns, read_table
from lmp_analytics.ingest.schemas import (
    RowFailure,
    collect_failures,
    enrolment_schema,
    phases_schema,
    roster_schema,
)
from lmp_analytics.presentation.messages import expectation, message, rejection
from lmp_analytics.registry import check_kommunenummer, orgnr_problem
from lmp_analytics.terms import parse_term, shift_term

ROSTER_COLUMNS = ["kommunenummer", "kommune", "skole_orgnr", "skole", "rolle", "pulje", "oppstart"]
PHASE_COLUMNS = ["skole_orgnr", "fase", "termin"]
ENROLMENT_COLUMNS = ["skole_orgnr", "skoleaar", "trinn", "elever"]
N_PHASES = 4


@dataclass(frozen=True)
class Roster:
    """Schools, their phase calendar and enrolment, as typed frames.

    ``schools``: kommunenummer, kommune, skole_orgnr, skole, rolle, pulje, oppstart.
    ``phases``: skole_orgnr, fase (1-4), termin, kilde ('program' or 'faser').
    ``enrolment``: skole_orgnr, skoleaar, trinn, elever.
    """

    schools: pl.DataFrame
    phases: pl.DataFrame
    enrolment: pl.DataFrame
    source: Path
    warnings: list[str] = field(default_factory=list)
    """Accepted with a change, e.g. a retired kommunenummer read as its successor."""

    @property
    def orgnrs(self) -> set[str]:
        return set(self.schools.get_column("skole_orgnr").to_list())


def _require_columns(
    table: RawTable, required: list[str], *, allow_empty: bool = False
) -> None:
    check_duplicate_columns(table, set(required))
    missing = [c for c in required if c not in table.frame.columns]
    if missing:
        found = ", ".join(table.frame.columns) or message("notice.none")
        raise rejection(table.path, "roster_columns", missing=", ".join(missing), found=found,
                        delimiter=table.delimiter or "-", column=missing[0], cls=RosterError)
    if table.frame.height == 0 and not allow_empty:
        raise rejection(table.path, "roster_no_rows", cls=RosterError)


def _as_int(table: RawTable, column: str) -> pl.Expr:
    """Whole numbers; ``'2.0'`` (a spreadsheet number) counts as 2."""
    return (pl.col(column).str.strip_chars().str.replace(r"^(\d+)\.0+$", "${1}")
            .cast(pl.Int64, strict=False))


def _first_per_cell(failures: list[RowFailure]) -> list[RowFailure]:
    """One failure per cell (the first found, which is the most specific), in file order."""
    seen: dict[tuple[int, str], RowFailure] = {}
    for f in failures:
        seen.setdefault((f.index, f.column), f)
    return sorted(seen.values(), key=lambda f: (f.index, f.column))


def _raise_failures(table: RawTable, failures: list[RowFailure]) -> None:
    """Every invalid cell of a reference file in one RosterError (the first ten spelled out)."""
    if not failures:
        return
    failures = _first_per_cell(failures)
    lines = []
    for f in failures[:10]:
        raw = table.frame.get_column(f.column)[f.index] if f.column in table.frame.columns else None
        lines.append(message("notice.invalid_cell", row=table.line_of(f.index), column=f.column,
                             value=repr(raw), expected=expectation(f.reason)))
    first = failures[0]
    raise rejection(table.path, "roster_cells_more" if len(failures) > 10 else "roster_cells",
                    n=len(failures), more=len(failures) - 10, lines=lines,
                    row=table.line_of(first.index), column=first.column, cls=RosterError)


def _non_integer_failures(table: RawTable, typed: pl.DataFrame, columns: list[str]) -> list:
    out = []
    for c in columns:
        bad = typed.with_row_index("i").filter(
            pl.col(c).is_null() & table.frame.get_column(c).is_not_null()
        )
        out += [RowFailure(int(i), c, "a whole number") for i in bad.get_column("i")]
    return out


def read_roster(
    program: str | Path, phases: str | Path | None = None, enrolment: str | Path | None = None
) -> Roster:
    """Read and check ``program.csv`` and the optional ``faser.csv`` / ``elevtall.csv``."""
    table = read_table(program)
    _require_columns(table, ROSTER_COLUMNS)
    raw = table.frame
    typed = raw.select(
        pl.col("kommunenummer").str.strip_chars(),
        pl.col("kommune").str.strip_chars(),
        pl.col("skole_orgnr").str.strip_chars(),
        pl.col("skole").str.strip_chars(),
        pl.col("rolle").str.strip_chars().str.to_lowercase(),
        _as_int(table, "pulje").alias("pulje"),
        pl.col("oppstart").str.strip_chars().str.to_uppercase(),
    )
    failures = _non_integer_failures(table, typed, ["pulje"])
    failures += collect_failures(roster_schema(), typed)
    registry_failures, typed, notes = _registry_checks(table, typed)
    failures += registry_failures
    idx = typed.with_row_index("i")
    dups = idx.filter(pl.col("skole_orgnr").is_duplicated())
    for org, group in dups.group_by("skole_orgnr", maintain_order=True).agg("i").iter_rows():
        where = ", ".join(str(table.line_of(int(i))) for i in group)
        failures += [RowFailure(int(i), "skole_orgnr",
                                message("expect.unique_orgnr", orgnr=org, lines=where))
                     for i in group]
    for i in idx.filter(
        (pl.col("rolle") == "deltaker") & (pl.col("pulje").is_null() | pl.col("oppstart").is_null())
    ).get_column("i"):
        col = "pulje" if typed.get_column("pulje")[int(i)] is None else "oppstart"
        failures.append(RowFailure(int(i), col, "pulje and oppstart for a 'deltaker' school"))
    for i in idx.filter(
        (pl.col("rolle") == "sammenligning")
        & (pl.col("pulje").is_not_null() | pl.col("oppstart").is_not_null())
    ).get_column("i"):
        failures.append(RowFailure(int(i), "pulje", "empty pulje and oppstart for a "
                                   "'sammenligning' school (it never joins LMP)"))
    _raise_failures(table, failures)
    schools = typed

    phase_frame = _phase_calendar(schools)
    if phases is not None:
        phase_frame = _apply_phase_overrides(phase_frame, read_phase_overrides(phases, schools))
    enrol = (
        read_enrolment(enrolment, schools)
        if enrolment is not None
        else pl.DataFrame(schema={"skole_orgnr": pl.String, "skoleaar": pl.String,
                                  "trinn": pl.Int64, "elever": pl.Int64})
    )
    return Roster(schools=schools, phases=phase_frame, enrolment=enrol, source=Path(program),
                  warnings=notes)


def _registry_checks(
    table: RawTable, typed: pl.DataFrame
) -> tuple[list[RowFailure], pl.DataFrame, list[str]]:
    """Organisation numbers need a valid check digit; municipality numbers must be in the
    official list. A retired municipality number is replaced by its successor (a warning);
    an unknown one, or Svalbard/abroad (national statistics only), is an error."""
    failures: list[RowFailure] = []
    notes: list[str] = []
    kommune = typed.get_column("kommunenummer").to_list()
    for i, org in enumerate(typed.get_column("skole_orgnr").to_list()):
        if org is not None and len(org) == 9 and org.isdigit() and (why := orgnr_problem(org)):
            failures.append(RowFailure(i, "skole_orgnr", why))
    for i, code in enumerate(kommune):
        if code is None or len(code) != 4 or not code.isdigit():
            continue  # the schema already reports the form
        check = check_kommunenummer(code)
        if check.status == "retired":
            notes.append(message("notice.kommune_retired", path=table.path,
                                 row=table.line_of(i), detail=check.message))
            kommune[i] = check.code
        elif not check.ok:
            failures.append(RowFailure(i, "kommunenummer", check.message or ""))
    return failures, typed.with_columns(pl.Series("kommunenummer", kommune, pl.String)), notes


def _phase_calendar(schools: pl.DataFrame) -> pl.DataFrame:
    rows = []
    for orgnr, start in schools.filter(pl.col("rolle") == "deltaker").select(
        "skole_orgnr", "oppstart"
    ).iter_rows():
        for k in range(1, N_PHASES + 1):
            rows.append((orgnr, k, shift_term(parse_term(start), k - 1), "program"))
    return pl.DataFrame(
        rows, schema={"skole_orgnr": pl.String, "fase": pl.Int64, "termin": pl.String,
                      "kilde": pl.String}, orient="row",
    )


def read_phase_overrides(path: str | Path, schools: pl.DataFrame) -> pl.DataFrame:
    """``faser.csv``: one row per (school, phase) that deviates from ``oppstart + k - 1``."""
    table = read_table(path)
    # No local adaptation at all is normal: a faser.csv with only its header is fine.
    _require_columns(table, PHASE_COLUMNS, allow_empty=True)
    typed = table.frame.select(
        pl.col("skole_orgnr").str.strip_chars(),
        _as_int(table, "fase").alias("fase"),
        pl.col("termin").str.strip_chars().str.to_uppercase(),
    )
    failures = _non_integer_failures(table, typed, ["fase"])
    failures += collect_failures(phases_schema(), typed)
    participants = set(schools.filter(pl.col("rolle") == "deltaker")["skole_orgnr"].to_list())
    idx = typed.with_row_index("i")
    for i, org in idx.select("i", "skole_orgnr").iter_rows():
        if org is not None and org not in participants:
            failures.append(RowFailure(int(i), "skole_orgnr",
                                       "a participating ('deltaker') school of program.csv"))
    for i in idx.filter(pl.struct("skole_orgnr", "fase").is_duplicated()).get_column("i"):
        failures.append(RowFailure(int(i), "fase", "one row per school and phase"))
    _raise_failures(table, failures)
    return typed


def _apply_phase_overrides(calendar: pl.DataFrame, overrides: pl.DataFrame) -> pl.DataFrame:
    merged = calendar.join(
        overrides.rename({"termin": "override"}), on=["skole_orgnr", "fase"], how="left"
    ).with_columns(
        pl.coalesce("override", "termin").alias("termin"),
        pl.when(pl.col("override").is_not_null()).then(pl.lit("faser"))
        .otherwise(pl.col("kilde")).alias("kilde"),
    ).drop("override")
    return merged.sort("skole_orgnr", "fase")


def read_enrolment(path: str | Path, schools: pl.DataFrame) -> pl.DataFrame:
    """``elevtall.csv``: enrolled pupils per school, school year and grade (for response rates)."""
    table = read_table(path)
    _require_columns(table, ENROLMENT_COLUMNS)
    trinn = pl.col("trinn").str.strip_chars().str.to_lowercase()
    typed = table.frame.select(
        pl.col("skole_orgnr").str.strip_chars(),
        pl.col("skoleaar").str.strip_chars(),
        pl.when(trinn.str.starts_with("vg"))
        .then(trinn.str.slice(2).cast(pl.Int64, strict=False) + 10)
        .otherwise(trinn.cast(pl.Int64, strict=False)).alias("trinn"),
        _as_int(table, "elever").alias("elever"),
    )
    failures = _non_integer_failures(table, typed, ["trinn", "elever"])
    failures += collect_failures(enrolment_schema(), typed)
    known = set(schools["skole_orgnr"].to_list())
    for i, org in typed.with_row_index("i").select("i", "skole_orgnr").iter_rows():
        if org is not None and org not in known:
            failures.append(RowFailure(int(i), "skole_orgnr", "a school listed in program.csv"))
    _raise_failures(table, failures)
    return typed
