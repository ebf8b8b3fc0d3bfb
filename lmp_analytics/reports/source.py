"""Where a school report's numbers come from: :class:`ReportSource` fetches each table once per
(warehouse, role) through the role-scoped, suppressed API, so a batch of reports for a
municipality or pulje reads the warehouse once, not once per school; :func:`select_schools`
picks a batch's schools within the role's scope."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import polars as pl

from lmp_analytics import api
from lmp_analytics.errors import keyed
from lmp_analytics.metrics.participation import enrolment
from lmp_analytics.metrics.phases import phase_calendar, primary_rounds
from lmp_analytics.presentation.messages import refusal
from lmp_analytics.privacy.roles import Role
from lmp_analytics.privacy.scope import scope
from lmp_analytics.readmodels.catalogue import rounds_with_primary
from lmp_analytics.readmodels.comparison import national_series
from lmp_analytics.readmodels.quality import hidden_rounds
from lmp_analytics.reports.model import ReportError, WarehouseArg
from lmp_analytics.warehouse import reading
from lmp_analytics.warehouse.queries import named

# --------------------------------------------------------------------------------------------
# Source: each table fetched once per (warehouse, role)


class ReportSource:
    """The numbers a report may use, fetched through :mod:`lmp_analytics.api` for one role."""

    def __init__(self, *, role: str | Role | None = "program", warehouse: WarehouseArg = None,
                 schools: Sequence[str] | None = None):
        self.role = api.as_role(role)
        self.warehouse = warehouse
        self.schools = tuple(schools or ())
        self._changes: dict[tuple[str, tuple[str, ...]], pl.DataFrame] = {}
        self._cells: dict[tuple[str | None, tuple[str, ...]], pl.DataFrame] = {}

    @cached_property
    def min_n(self) -> int:
        """The threshold the report's numbers are suppressed with (:func:`api.threshold`)."""
        return api.threshold(self.warehouse)

    @cached_property
    def hidden_rounds(self) -> list[str]:
        """The rounds of which the publication the report reads hides a school cell: their
        respondents are hidden too (:func:`lmp_analytics.readmodels.quality.hidden_rounds`)."""
        with reading(self.warehouse) as con:
            return hidden_rounds(con, self.min_n)

    def _family(self, orgnr: str) -> tuple[str, ...]:
        """The batch's schools when ``orgnr`` is one of them, else ``orgnr`` alone."""
        return self.schools if orgnr in self.schools else (orgnr,)

    def school_cells(self, orgnr: str, *, by: str | None = None) -> pl.DataFrame:
        """The school's published cells of every indicator (``by``: None or 'trinn'), read for
        the batch's schools at once (one query) when ``orgnr`` is one of them."""
        key = (by, self._family(orgnr))
        if key not in self._cells:
            self._cells[key] = api.indicators("skole", indicator=None, by=by, role=self.role,
                                              warehouse=self.warehouse, schools=key[1],
                                              surface="report")
        return self._cells[key].filter(pl.col("skole_orgnr") == orgnr)

    @cached_property
    def _programme(self) -> pl.DataFrame:
        return api.indicators("program", indicator=None, role=self.role,
                              warehouse=self.warehouse, surface="report")

    @cached_property
    def reference(self) -> pl.DataFrame:
        frame = self._programme
        return frame.filter(pl.col("rolle") == "deltaker") if frame.height else frame

    @cached_property
    def comparison(self) -> pl.DataFrame:
        """The programme's comparison schools (pooled cells)."""
        frame = self._programme
        return frame.filter(pl.col("rolle") == "sammenligning") if frame.height else frame

    @cached_property
    def national(self) -> pl.DataFrame:
        """Elevundersøkelsen's national bullying share by grade and term (published)."""
        frame = national_series(role=self.role, warehouse=self.warehouse, surface="report",
                                levels=("nasjon",))
        return frame.filter((pl.col("value_type") == "pct") & pl.col("trinn").is_in([7, 10])
                            & ~pl.col("suppressed").fill_null(True))

    def changes(self, indicator: str, orgnr: str) -> pl.DataFrame:
        """Before/after every phase and between consecutive rounds of one school.

        Computed only for the batch's ``schools`` (one call for all of them) when ``orgnr`` is
        one of them, else for ``orgnr`` alone. The report shows no Benjamini-Hochberg adjusted
        p-value, so the family a change is computed in does not change what it shows."""
        family = self._family(orgnr)
        key = (indicator, family)
        if key not in self._changes:
            phases = api.compare(indicator=indicator, phase=None, role=self.role,
                                 warehouse=self.warehouse, schools=family, surface="report")
            rounds = api.compare(indicator=indicator, phase="runde", role=self.role,
                                 warehouse=self.warehouse, schools=family, surface="report")
            self._changes[key] = pl.concat([phases, rounds], how="vertical_relaxed")
        return self._changes[key].filter(pl.col("skole_orgnr") == orgnr)

    @cached_property
    def context(self) -> dict[str, pl.DataFrame | str | None]:
        """Schools, phase calendar, rounds, enrolment and the last ingest (no numbers about
        pupils except respondents, which are suppressed before they are shown)."""
        with reading(self.warehouse) as con:
            schools = con.sql(named("report", "schools")).pl()
            calendar = phase_calendar(con)
            primary = primary_rounds(con)
            rounds = rounds_with_primary(con).select(
                "round_id", "skole_orgnr", "term", "versjon", "runde", "formal", "first_date",
                "respondents", "items", "is_primary",
            ).sort("skole_orgnr", "first_date", "round_id", maintain_order=True)
            enrolled = enrolment(con)
            last = con.sql(named("report", "last_ingest")).fetchall()[0][0]
        return {
            "schools": schools, "calendar": calendar, "primary": primary, "rounds": rounds,
            "enrolment": enrolled, "data_as_of": last.date().isoformat() if last else None,
        }

    # ----------------------------------------------------------------------------------------

    def schools_in_scope(self) -> pl.DataFrame:
        """dim_school rows of the schools the role may see."""
        return scope(self.context["schools"], self.role, "report")

    def school(self, orgnr: str) -> dict:
        """The school's roster row; ReportError if unknown, PermissionError if out of scope."""
        schools = self.context["schools"].filter(pl.col("skole_orgnr") == orgnr)
        if schools.height == 0:
            raise refusal(ReportError, "no_such_school", orgnr=orgnr)
        row = schools.row(0, named=True)
        if not self.role.includes_school(orgnr, row["kommunenummer"]):
            raise keyed(PermissionError(f"role {self.role} may not see school {orgnr}"),
                        "role_not_school", role=self.role, orgnr=orgnr)
        return row


def select_schools(
    source: ReportSource,
    *,
    schools: list[str] | None = None,
    kommune: str | None = None,
    pulje: int | None = None,
) -> list[str]:
    """Orgnr of the schools a batch covers, within the role's scope (roster order).

    Exactly one of ``schools``, ``kommune`` and ``pulje``. A school named explicitly but out of
    scope is a PermissionError; a kommune or pulje is cut to the scope and must keep a school.
    """
    given = [x is not None and x != [] for x in (schools, kommune, pulje)]
    if sum(given) != 1:
        raise refusal(ReportError, "one_scope")
    if schools:
        for orgnr in schools:
            source.school(orgnr)
        return list(dict.fromkeys(schools))
    visible = source.schools_in_scope()
    if kommune is not None:
        picked = visible.filter(pl.col("kommunenummer") == kommune)
        if picked.height == 0:
            raise refusal(ReportError, "kommune_not_in_role", kommune=kommune, role=source.role)
    else:
        picked = visible.filter(pl.col("pulje") == int(pulje))
        if picked.height == 0:
            raise refusal(ReportError, "pulje_not_in_role", pulje=pulje, role=source.role)
    return picked["skole_orgnr"].to_list()
