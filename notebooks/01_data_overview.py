# LMP researcher notebook 01 · Data overview (coverage, versions, response, attrition, quarantine).
# Run: python notebooks/01_data_overview.py   (see notebooks/README.md)
# ruff: noqa: B018  (marimo displays the last expression of a cell)
import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="LMP 01 – data overview")


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    # 1 · Data overview

    What the warehouse holds before any effect is estimated: which schools answered Spekter in
    which terms, with which instrument version and modules, how many pupils answered, how many of
    them can be followed to the next round (the *linked* pupils the "same pupils" analyses use),
    and what the ingest put in quarantine.

    The notebook reads the published warehouse read-only (`LMP_WAREHOUSE`, else
    `data/warehouse.duckdb`; `lmp demo --no-dashboard` builds the synthetic demo one). Every
    number is computed by `lmp_analytics`; this notebook only selects and draws.
    """)
    return


@app.cell
def _():
    import altair as alt
    import marimo as mo
    import polars as pl

    from lmp_analytics import api
    from lmp_analytics.config import warehouse_path
    from lmp_analytics.evaluation.school_change import consecutive_round_changes
    from lmp_analytics.metrics.participation import (
        LOW_RESPONSE_RATE,
        enrolment,
        response_rates,
    )
    from lmp_analytics.metrics.phases import phase_calendar
    from lmp_analytics.readmodels.catalogue import rounds_with_primary
    from lmp_analytics.terms import term_index
    from lmp_analytics.warehouse import reading
    from lmp_analytics.warehouse.queries import named
    from lmp_analytics.warehouse.status import warehouse_status

    return (
        LOW_RESPONSE_RATE,
        alt,
        api,
        consecutive_round_changes,
        enrolment,
        mo,
        named,
        phase_calendar,
        pl,
        reading,
        response_rates,
        rounds_with_primary,
        term_index,
        warehouse_path,
        warehouse_status,
    )


@app.cell
def _(
    consecutive_round_changes,
    enrolment,
    named,
    phase_calendar,
    pl,
    reading,
    rounds_with_primary,
    warehouse_path,
    warehouse_status,
):
    WAREHOUSE = warehouse_path()
    status = warehouse_status(WAREHOUSE)
    with reading(WAREHOUSE) as _con:
        schools = _con.sql(named("reads", "schools")).pl()
        calendar = phase_calendar(_con)
        rounds = rounds_with_primary(_con).select(
            "round_id", "skole_orgnr", "term", "versjon", "runde", "formal", "respondents",
            "items", "is_primary")
        enrolled = enrolment(_con)
        ingest_log = _con.sql(
            "SELECT status, count(*) AS files, sum(rows_read) AS rows_read, "
            "sum(rows_loaded) AS rows_loaded, sum(rows_quarantined) AS rows_quarantined "
            "FROM ingest_log GROUP BY status ORDER BY status"
        ).pl()
        transitions = consecutive_round_changes(_con, indicator="mobbet")
    return (
        WAREHOUSE,
        calendar,
        enrolled,
        ingest_log,
        rounds,
        schools,
        status,
        transitions,
    )


@app.cell
def _():
    def pct(share, decimals: int = 1) -> str:
        """A share as a percentage, or "not available" when it cannot be computed (None)."""
        return "not available" if share is None else f"{share:.{decimals}%}"

    return (pct,)


@app.cell(hide_code=True)
def _(WAREHOUSE, mo, pl, schools, status):
    _by_role = schools.group_by("rolle", "pulje").agg(pl.len().alias("schools")).sort(
        "rolle", "pulje"
    )
    _lines = "\n".join(
        f"| {r['rolle']} | {r['pulje'] if r['pulje'] is not None else '–'} | {r['schools']} |"
        for r in _by_role.iter_rows(named=True)
    )
    mo.md(f"""
    ## What is in the warehouse

    `{WAREHOUSE}` — last ingest {status.last_ingest}.

    **{status.schools} schools** with at least one round, **{status.n_rounds} rounds**,
    **{status.responses:,} responses** from **{status.pupils:,} pupils** (pseudonymised),
    **{status.quarantined_rows} quarantined rows**.

    | role | pulje | schools |
    |---|---|---|
    {_lines}

    Participants (*deltaker*) start phase 1 in their pulje's term; comparison schools
    (*sammenligning*) use Spekter but never join LMP — they are the never-treated controls of
    notebook 3.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Coverage: schools × terms

    One cell per school and term: the respondents of the school's round(s). Blank cells are
    terms without a round (schools skip a round now and then; a quarter of the participants only
    start Spekter with phase 1). The black outline marks each participant's phase-1 term — the
    round in that term is the *before* of phase 1 (event time e = −1).
    """)
    return


@app.cell
def _(alt, calendar, pl, rounds, schools, term_index):
    _terms = sorted(rounds["term"].unique().to_list(), key=term_index)
    _label = schools.with_columns(
        pl.when(pl.col("rolle") == "deltaker")
        .then(pl.format("P{} · {}", pl.col("pulje"), pl.col("skole")))
        .otherwise(pl.format("C · {}", pl.col("skole")))
        .alias("school")
    ).with_columns(
        # two schools may share a name: the organisation number tells them apart
        pl.when(pl.col("school").is_duplicated())
        .then(pl.format("{} ({})", pl.col("school"), pl.col("skole_orgnr")))
        .otherwise(pl.col("school"))
        .alias("school")
    ).select("skole_orgnr", "school", "rolle", "pulje")
    _order = _label.sort(pl.col("pulje").fill_null(99), "school")["school"].to_list()
    _cells = (
        rounds.group_by("skole_orgnr", "term")
        .agg(pl.col("respondents").sum(), pl.len().alias("rounds"))
        .join(_label, on="skole_orgnr")
    )
    _phase1 = (
        calendar.filter(pl.col("fase") == 1)
        .select("skole_orgnr", pl.col("termin").alias("term"))
        .join(_label, on="skole_orgnr")
    )
    _base = alt.Chart(_cells).encode(
        x=alt.X("term:O", sort=_terms, title="term"),
        y=alt.Y("school:N", sort=_order, title=None),
    )
    _heat = _base.mark_rect().encode(
        color=alt.Color("respondents:Q", scale=alt.Scale(scheme="blues"), title="respondents"),
        tooltip=["school", "term", "respondents", "rounds"],
    )
    _p1 = (
        alt.Chart(_phase1)
        .mark_rect(fill=None, stroke="black", strokeWidth=2)
        .encode(x=alt.X("term:O", sort=_terms), y=alt.Y("school:N", sort=_order))
    )
    coverage_chart = (_heat + _p1).properties(width=520, height=14 * len(_order))
    coverage_chart
    return


@app.cell(hide_code=True)
def _(mo, status):
    mo.accordion(
        {
            "The same grid as `lmp status` prints (respondents per round; '+' = two rounds)": (
                status.rounds
            )
        }
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Instrument versions and modules

    Until 2022V schools answered `spekter-2018`, from 2022H the preventive `spekter-2022`
    version; a few schools ran an extra `spekter-2022-mistanke` round for one class (a targeted
    survey: never a school's primary round). The digital and adult modules are chosen per school
    and exist only in the 2022 versions; an indicator whose items were not asked is *not
    measured* (NULL), never 0. The scales of notebook 4 exist only in the 2022 versions.
    """)
    return


@app.cell
def _(alt, pl, rounds, term_index):
    _terms = sorted(rounds["term"].unique().to_list(), key=term_index)
    versions_chart = (
        alt.Chart(rounds.group_by("term", "versjon").agg(pl.len().alias("rounds")))
        .mark_bar()
        .encode(
            x=alt.X("term:O", sort=_terms),
            y=alt.Y("rounds:Q", title="rounds"),
            color=alt.Color("versjon:N", title="version"),
            tooltip=["term", "versjon", "rounds"],
        )
        .properties(width=520, height=180, title="Rounds per term and version")
    )
    modules = (
        rounds.filter(pl.col("versjon") != "spekter-2018")
        .with_columns(
            pl.col("items").list.contains("mobbet_digitalt").alias("digital"),
            pl.col("items").list.contains("mobbet_voksen").alias("voksen"),
        )
        .group_by("versjon")
        .agg(
            pl.len().alias("rounds"),
            pl.col("digital").mean().round(3).alias("share_with_digital_module"),
            pl.col("voksen").mean().round(3).alias("share_with_adult_module"),
        )
        .sort("versjon")
    )
    versions_chart
    return (modules,)


@app.cell
def _(modules):
    modules
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Response

    Response rate = respondents of the school's primary round ÷ pupils enrolled in trinn 3–10
    that school year (`elevtall.csv`). DESIGN.md flags rates below 70 %: a low rate makes the
    round's share less trustworthy than its interval says (non-response is not random).
    """)
    return


@app.cell
def _(alt, enrolled, pl, response_rates, rounds, schools):
    # the same response rates (and suppression below min_n) as the dashboard and the reports
    _primary = rounds.filter(pl.col("is_primary")).select(
        "skole_orgnr", "round_id", "term", "formal", "respondents"
    )
    response = (
        response_rates(_primary, enrolled)
        .join(schools.select("skole_orgnr", "skole", "rolle"), on="skole_orgnr")
        .select("skole", "rolle", "term", pl.col("n").alias("respondents"), "n_display",
                "enrolled", "response_rate", "low_rate")
    )
    low_response = response.filter(pl.col("low_rate")).sort("response_rate")
    response_chart = (
        alt.Chart(response.filter(pl.col("response_rate").is_not_null()))
        .mark_bar()
        .encode(
            x=alt.X("response_rate:Q", bin=alt.Bin(step=0.025), title="response rate"),
            y=alt.Y("count():Q", title="rounds"),
            color=alt.Color("rolle:N", title="role"),
        )
        .properties(width=420, height=160)
    )
    response_chart
    return low_response, response


@app.cell(hide_code=True)
def _(LOW_RESPONSE_RATE, enrolled, low_response, mo, pct, pl, response):
    _known = response.filter(pl.col("response_rate").is_not_null())
    _colon = ":" if low_response.height else "."
    if _known.height == 0:
        # elevtall.csv is optional: without it no rate can be computed (never shown as 0)
        _why = ("the warehouse holds no enrolment (`elevtall.csv` was not supplied)"
                if enrolled.height == 0 else
                "no enrolment for these schools and years, or too few respondents to show")
        _out = mo.callout(mo.md(
            f"Response rates are **not available** for any of the {response.height} primary "
            f"rounds: {_why}, so a response rate cannot be computed."), kind="warn")
    else:
        _out = mo.md(f"""
    A response rate for **{_known.height} of {response.height}** primary rounds (none where
    enrolment is unknown or the round has too few respondents to show); median
    response rate **{pct(_known["response_rate"].median())}**
    (range {pct(_known["response_rate"].min())}–{pct(_known["response_rate"].max())}).
    **{low_response.height}** rounds fall below {LOW_RESPONSE_RATE:.0%}{_colon}
    """)
    _out
    return


@app.cell
def _(low_response):
    low_response
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Attrition of linked pupils

    A pupil is *linked* when the same pseudonym answered `mobbet` in the school's next primary
    round. Linked pupils make the before/after intervals narrower (MOVER) and carry the
    "same pupils" view (Newcombe paired, McNemar). Attrition = 1 − linked ÷ respondents of the
    earlier round: pupils absent on the day, movers, skipped items — and over the summer the top
    trinn leaving school.
    """)
    return


@app.cell
def _(alt, pl, transitions):
    attrition = transitions.filter(pl.col("pre_n") > 0).with_columns(
        pl.when(pl.col("pre_term").str.ends_with("H"))
        .then(pl.lit("autumn → spring (same school year)"))
        .otherwise(pl.lit("spring → autumn (over the summer)"))
        .alias("transition"),
        (1 - pl.col("linked_n") / pl.col("pre_n")).alias("attrition"),
    )
    attrition_summary = (
        attrition.group_by("transition")
        .agg(
            pl.len().alias("round_pairs"),
            pl.col("pre_n").sum().alias("respondents_before"),
            pl.col("linked_n").sum().alias("linked"),
            pl.col("attrition").median().round(3).alias("median_attrition"),
        )
        .with_columns(
            (1 - pl.col("linked") / pl.col("respondents_before")).round(3).alias(
                "pooled_attrition"
            )
        )
        .sort("transition")
    )
    attrition_chart = (
        alt.Chart(attrition)
        .mark_boxplot()
        .encode(
            x=alt.X("attrition:Q", title="attrition (1 − linked / respondents before)"),
            y=alt.Y("transition:N", title=None),
            color=alt.Color("transition:N", legend=None),
        )
        .properties(width=420, height=100)
    )
    attrition_chart
    return (attrition_summary,)


@app.cell
def _(attrition_summary):
    attrition_summary
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Pupils without a friend nomination (researchers only)

    Per class of each round that asked the friend nomination (`nom_venn`), the share of pupils
    whom no classmate named as someone they would most like to be with at break (`uten_venn`).
    Read through `api.no_friend_share`: counts per class only, never a name, pseudonym or
    network, and a class below the suppression threshold is hidden like every other number.
    """)
    return


@app.cell
def _(WAREHOUSE, api, mo, pct, pl):
    no_friend = api.no_friend_share(role="forsker", warehouse=WAREHOUSE, surface="notebook")
    _shown = no_friend.filter(~pl.col("suppressed").cast(pl.Boolean))
    _median = _shown["share"].cast(pl.Float64).median() if _shown.height else None
    mo.vstack([
        mo.md(f"{no_friend.height} classes asked it, {no_friend.height - _shown.height} hidden "
              f"(small classes); median share without a friend nomination: {pct(_median)}."),
        no_friend.select("skole", "term", "gruppe", "n_display", "count", "share", "suppressed"),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Quarantine and ingest

    Rows that failed validation are kept in `quarantine` with file, line, column and reason (pupil
    ids only as pseudonyms); the rest of their file loaded. The demo world is generated without
    planted errors, so its quarantine is empty; `write_world(..., with_errors=True)` plants them.
    """)
    return


@app.cell
def _(ingest_log, mo, status):
    _quarantine = (
        status.quarantine
        if status.quarantine.height
        else mo.callout(mo.md("No quarantined rows."), kind="success")
    )
    mo.vstack([mo.md("**Files by ingest status**"), ingest_log,
               mo.md("**Quarantined rows by file, column and reason**"), _quarantine])
    return


@app.cell(hide_code=True)
def _(attrition_summary, mo, pct, pl, response, rounds, status):
    def _pooled(frame):
        # no pair of consecutive rounds of that kind: attrition is not available (not 0)
        return pct(frame["pooled_attrition"].item() if frame.height else None, 0)

    _summer = _pooled(attrition_summary.filter(pl.col("transition").str.contains("summer")))
    _within = _pooled(attrition_summary.filter(~pl.col("transition").str.contains("summer")))
    mo.md(f"""
    ## Take-aways

    - {status.schools} schools, {rounds.height} rounds ({rounds.filter(pl.col("is_primary")).height}
      primary), {rounds["versjon"].n_unique()} instrument versions.
    - Median response rate {pct(response["response_rate"].median(), 0)}.
    - Linked-pupil attrition: {_within} within a school year,
      {_summer} over the summer — the "same pupils" views rest
      on most, but not all, respondents.
    - Quarantined rows: {status.quarantined_rows}.
    """)
    return


if __name__ == "__main__":
    app.run()
