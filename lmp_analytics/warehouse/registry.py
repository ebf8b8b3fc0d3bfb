"""Every derived table of the warehouse, declared once.

A *target* is one build step: the tables it writes, the SQL file that holds its queries, the
tables it reads, its layer and what its incremental build is keyed on. The layers are named by
trust:

- **staging**: files as read (never stored);
- **dim / fct**: the facts as loaded and the dimensions derived from them (``dim_round``);
- **mart**: counts and statistics derived from the facts, every cell and every pupil;
- **pub**: what may be shown: the marts' cells after suppression.

The engine (:mod:`lmp_analytics.warehouse.build`) keeps one state table, ``build_state``, for
all of them: per target the fingerprints of the units (rounds, or (term, rolle) components) it
was last built from, and in ``meta`` the fingerprint of its other inputs (``inputs_key``). A
target whose inputs changed, or that has no recorded state, is rebuilt in full; otherwise only
the units whose fingerprints changed. ``lmp_analytics.jobs.build_derived`` runs the targets in
:data:`BUILD_ORDER` (each after the targets it reads).

Each table's columns and types are declared once, as a ``-- name: <table>`` block of
``CREATE TABLE`` in ``warehouse/sql/<ddl>.sql``; builders make their tables from it and insert
into them (:mod:`lmp_analytics.warehouse.ddl`).

To find where a published number comes from: look up its table in :data:`TARGETS` (``tables``),
then its ``sql`` file under ``warehouse/sql/``, its DDL and its ``builder`` function.
"""

from __future__ import annotations

from dataclasses import dataclass

LAYERS = ("staging", "dim", "fct", "mart", "pub")


@dataclass(frozen=True)
class Target:
    """One derived build step."""

    name: str
    layer: str                     # one of LAYERS
    tables: tuple[str, ...]        # the tables it writes
    sql: str                       # its queries: warehouse/sql/<sql>.sql
    reads: tuple[str, ...]         # the tables it is computed from
    builder: str                   # the function that builds it (module:function)
    inputs_key: str                # meta key: fingerprint of its inputs besides its units
    unit: str = "round_id"         # what its incremental state is kept per
    keyed_on: str | None = None    # the target whose round fingerprints it reuses (None: own)
    always: bool = True            # False: a build without rows leaves no table
    ddl: str = "derived"           # its tables' columns and types: warehouse/sql/<ddl>.sql


TARGETS: dict[str, Target] = {t.name: t for t in (
    Target("dim_round", "dim", ("dim_round",), "dim_round",
           ("fct_response", "fct_answer"),
           "lmp_analytics.warehouse.load:rebuild_rounds", "dim_round_inputs"),
    Target("marts", "mart",
           ("dim_indicator_item", "fct_pupil_indicator", "mart_group_counts",
            "mart_school_round", "mart_indicator_counts", "mart_item_counts"), "marts",
           ("fct_response", "fct_answer", "dim_round", "dim_school", "dim_phase"),
           "lmp_analytics.metrics.marts:build_marts", "marts_inputs"),
    Target("item_nonresponse", "mart", ("mart_item_nonresponse",), "marts",
           ("mart_item_counts", "mart_school_round", "dim_round", "dim_school"),
           "lmp_analytics.metrics.nonresponse:store_item_nonresponse",
           "item_nonresponse_inputs", unit="term", keyed_on="marts"),
    Target("school_changes", "mart", ("mart_school_change",), "changes",
           ("fct_pupil_indicator", "dim_round", "dim_school", "dim_phase",
            "dim_indicator_item"),
           "lmp_analytics.evaluation.change_table:build_change_table",
           "school_change_inputs", keyed_on="marts"),
    Target("publication", "pub", ("pub_indicator_cells",), "publication",
           ("mart_indicator_counts", "mart_school_round", "dim_school", "dim_indicator_item"),
           "lmp_analytics.publication:build_publication", "publication_inputs",
           unit="rolle", keyed_on="marts", always=False),
    # Estimates computed at publish time so that no page call fits a statistic: the landing
    # panel per role key (the programme, every municipality) and indicator, and the programme's
    # event study per indicator. Rebuilt in full when the marts' rounds, the changes' or the
    # publication's inputs change (each pools over every school); skipped when none did.
    Target("estimates", "mart",
           ("mart_landing_panel", "mart_event_study", "mart_event_summary", "mart_event_info"),
           "estimates", ("mart_school_change", "pub_indicator_cells", "mart_indicator_counts",
                         "mart_school_round", "dim_school", "dim_phase"),
           "lmp_analytics.jobs:build_estimates", "estimates_inputs", unit="none"),
    # The national panel's designs and event study (Elevundersøkelsen), for the indicators the
    # dashboards show: refitted when the loaded files or the roster change; no table without
    # school-level results.
    Target("national_estimates", "mart", ("mart_national_results", "mart_national_event_study"),
           "estimates", ("fct_eu_result", "dim_school", "dim_phase"),
           "lmp_analytics.evaluation.national_view:build_national_estimates",
           "national_estimates_inputs", unit="none", always=False),
)}

#: The order a build runs the targets in (each after every target whose tables it reads).
BUILD_ORDER = ("dim_round", "marts", "item_nonresponse", "school_changes", "publication",
               "estimates", "national_estimates")
#: The steps ``lmp_analytics.jobs.build_derived`` calls, in BUILD_ORDER. ``dim_round`` is built by
#: the load itself (``warehouse.load.rebuild_rounds``: also after an erasure or a rekey), and
#: item non-response by the marts' step (on the terms the marts changed). ``national_estimates``
#: also runs after a national ingest (``lmp_analytics.jobs.ingest_national_files``).
JOB_STEPS = ("marts", "school_changes", "publication", "estimates", "national_estimates")


def target_of(table: str) -> Target:
    """The target that writes ``table`` (KeyError: not a derived table)."""
    for target in TARGETS.values():
        if table in target.tables:
            return target
    raise KeyError(f"{table} is not a derived table of the warehouse")


def derived_tables(*, always: bool = False) -> tuple[str, ...]:
    """Every table a build writes, in build order (``always``: only those every build leaves,
    with or without rows)."""
    return tuple(t for name in BUILD_ORDER for t in TARGETS[name].tables
                 if TARGETS[name].always or not always)
