# LMP researcher notebook 02 · Phase effects (before/after each phase, BH flags).
# Run: python notebooks/02_phase_effects.py   (see notebooks/README.md)
# ruff: noqa: B018  (marimo displays the last expression of a cell)
import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="LMP 02 – phase effects")


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    # 2 · Before and after each phase

    For every participating school and phase *k*: the change of an indicator from the round
    before the phase to the round after it (DESIGN.md: **pre(k)** = the school's first round in
    the phase term P(k), **post(k)** = its first round in the term after). All respondents of
    both rounds count; the interval is MOVER, which accounts for pupils linked across the two
    rounds, with the overlap-corrected score test (headline). The *same pupils* view adds
    Newcombe's paired interval and McNemar mid-p. Benjamini–Hochberg (BH) adjusts the p-values
    over the schools of one phase (the family a reader scans at once).

    These are **descriptive** changes, not programme effects: they include the secular trend,
    the grade mix and — for phase 1 above all — **regression to the mean**, because the schools
    were selected for high bullying. The causal estimate is notebook 3.
    """)
    return


@app.cell
def _():
    import os

    import altair as alt
    import marimo as mo
    import polars as pl

    from lmp_analytics import api
    from lmp_analytics.evaluation.school_change import phase_changes
    from lmp_analytics.presentation.labels import power_caveat, rtm_caveat, verdict_label
    from lmp_analytics.stats import mean_t_interval
    from lmp_analytics.synth.truth import (
        bullying_truth,
        change_truth,
        find_truth,
        respondents_by_trinn,
    )
    from lmp_analytics.warehouse import reading
    from lmp_analytics.warehouse.queries import named

    return (
        alt,
        api,
        bullying_truth,
        change_truth,
        find_truth,
        mean_t_interval,
        mo,
        named,
        os,
        phase_changes,
        pl,
        power_caveat,
        reading,
        respondents_by_trinn,
        rtm_caveat,
        verdict_label,
    )


@app.cell
def _(mo, named, reading):
    with reading() as _con:
        share_indicators = [
            r[0]
            for r in _con.sql(
                "SELECT DISTINCT indicator FROM dim_indicator_item WHERE kind = 'share' "
                "ORDER BY indicator"
            ).fetchall()
        ]
        school_ids = _con.sql(named("reads", "schools")).pl()["skole_orgnr"].to_list()
    indicator_picker = mo.ui.dropdown(
        options=share_indicators, value="mobbet", label="Indicator"
    )
    phase_picker = mo.ui.dropdown(
        options=["1", "2", "3", "4", "program"], value="1", label="Phase for the forest plot"
    )
    mo.hstack([indicator_picker, phase_picker], justify="start")
    return indicator_picker, phase_picker, school_ids


@app.cell
def _(
    bullying_truth,
    change_truth,
    find_truth,
    indicator_picker,
    os,
    phase_changes,
    pl,
    reading,
    respondents_by_trinn,
    school_ids,
):
    INDICATOR = indicator_picker.value
    PHASES = ["1", "2", "3", "4", "program"]
    # Truth only for the synthetic world, and only for the indicator whose planted model is the
    # share mobbet >= 3 (lmp_analytics.synth.truth).
    truth = find_truth(school_ids, os.environ.get("LMP_TRUTH"))
    with reading() as _con:
        # One call per phase: BH is applied within each phase's family of schools.
        changes = pl.concat(
            [phase_changes(_con, indicator=INDICATOR, phase=_k) for _k in PHASES],
            how="vertical_relaxed",
        )
        _composition = respondents_by_trinn(_con, "mobbet") if truth else None
    has_truth = truth is not None and INDICATOR == "mobbet"
    if has_truth:
        changes = change_truth(bullying_truth(truth, _composition), changes)
    tested = changes.filter(pl.col("tested"))
    return INDICATOR, PHASES, changes, has_truth, tested


@app.cell(hide_code=True)
def _(mo, rtm_caveat):
    mo.callout(mo.md(rtm_caveat("en")), kind="warn")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Pooled over schools, per phase

    The pooled change is the equal-weight mean of the tested schools' changes with a t interval
    over schools (`lmp_analytics.stats.mean_t_interval`): schools are the independent units.
    Where the synthetic world's truth is known, the last columns put it beside the estimate:
    `true change` is the expected change of the same schools between the same rounds (all
    causes), `true programme part` the part the planted effect makes.
    """)
    return


@app.cell
def _(PHASES, has_truth, mean_t_interval, pl, tested):
    def _pooled(frame, column):
        values = frame[column].drop_nulls()
        if values.len() < 2:
            return None, None, None
        r = mean_t_interval(values.to_numpy())
        return r.mean, r.ci_low, r.ci_high

    _rows = []
    for _k in PHASES:
        _f = tested.filter(pl.col("phase") == _k)
        _m, _lo, _hi = _pooled(_f, "diff")
        _lm, _llo, _lhi = _pooled(_f, "linked_diff")
        _row = {
            "phase": _k,
            "schools tested": _f.height,
            "pooled change": _m,
            "CI low": _lo,
            "CI high": _hi,
            "same pupils": _lm,
            "same CI low": _llo,
            "same CI high": _lhi,
            "BH decreases": _f.filter((pl.col("p_adjusted") < 0.05) & (pl.col("diff") < 0)).height,
            "BH increases": _f.filter((pl.col("p_adjusted") < 0.05) & (pl.col("diff") > 0)).height,
            "RTM warnings": _f.filter(pl.col("rtm_warning")).height,
        }
        if has_truth:
            _row |= {
                "true change": _f["true_change"].mean(),
                "true programme part": _f["true_programme"].mean(),
                "true no-programme part": _f["true_no_programme"].mean(),
                "pooled CI covers truth": _lo is not None
                and _lo <= _f["true_change"].mean() <= _hi,
                # no school tested: not available (None), never 0
                "school CIs covering truth": _f.filter(
                    (pl.col("diff_ci_low") <= pl.col("true_change"))
                    & (pl.col("true_change") <= pl.col("diff_ci_high"))
                ).height
                / _f.height if _f.height else None,
            }
        _rows.append(_row)
    pooled = pl.DataFrame(_rows).with_columns(pl.col(pl.Float64).round(4))
    pooled
    return (pooled,)


@app.cell(hide_code=True)
def _(INDICATOR, has_truth, mo, pl, pooled):
    def _covers(row):
        if row["CI low"] is None:
            return "cannot be checked against (fewer than 2 schools tested)"
        return "covers" if row["pooled CI covers truth"] else "misses"

    def _s(x):
        # an estimate that cannot be computed (fewer than 2 schools) is "not available", never 0
        return "not available" if x is None else f"{x:+.4f}"

    def _pct(x):
        return "not available" if x is None else f"{x:.0%}"

    if has_truth:
        _p1 = pooled.filter(pl.col("phase") == "1").row(0, named=True)
        _p2 = pooled.filter(pl.col("phase") == "2").row(0, named=True)
        _text = f"""
    **Against the planted truth ({INDICATOR}).** Phase 1: pooled change
    {_s(_p1["pooled change"])} (95 % CI {_s(_p1["CI low"])} to {_s(_p1["CI high"])}); the
    schools' expected change is {_s(_p1["true change"])}, of which only
    {_s(_p1["true programme part"])} is the programme and {_s(_p1["true no-programme part"])}
    would have happened anyway (trend, grade mix and the decay of the transient high the schools
    were selected on). Phase 2: pooled {_s(_p2["pooled change"])}
    ({_s(_p2["CI low"])} to {_s(_p2["CI high"])}) against an expected
    {_s(_p2["true change"])} (programme part {_s(_p2["true programme part"])}). The pooled
    interval {_covers(_p1)} the expected change in phase 1 and {_covers(_p2)} it in phase 2
    (a 95 % interval misses 1 time in 20, and the phases share schools). Per-school intervals
    cover the school's expected change in {_pct(_p1["school CIs covering truth"])} (phase 1) and
    {_pct(_p2["school CIs covering truth"])} (phase 2) of the schools.
    """
    else:
        _text = (
            "No truth to compare with: the warehouse is not the synthetic demo world (or the "
            "indicator is not `mobbet`). Set `LMP_TRUTH` to the world's `truth.json` if it is."
        )
    mo.md(_text)
    return


@app.cell(hide_code=True)
def _(mo, phase_picker):
    mo.md(f"""
    ## Forest plot — phase {phase_picker.value}

    One row per participating school: the change (post − pre, all respondents) with its 95 %
    MOVER interval, coloured by the BH-adjusted test (q = 0.05 within the phase). The pooled
    mean sits at the bottom. Black diamonds: the school's expected change in the synthetic world
    (when known). A school whose interval crosses 0 is the normal case — see the power note.
    """)
    return


@app.cell
def _(alt, changes, has_truth, mean_t_interval, mo, phase_picker, pl):
    _f = changes.filter((pl.col("phase") == phase_picker.value) & pl.col("tested"))
    _f = _f.with_columns(
        pl.when((pl.col("p_adjusted") < 0.05) & (pl.col("diff") < 0))
        .then(pl.lit("decrease (BH q < 0.05)"))
        .when((pl.col("p_adjusted") < 0.05) & (pl.col("diff") > 0))
        .then(pl.lit("increase (BH q < 0.05)"))
        .otherwise(pl.lit("not significant after BH"))
        .alias("flag"),
        pl.format("{} ({} → {})", pl.col("skole"), pl.col("pre_term"), pl.col("post_term")).alias(
            "label"
        ),
    )
    _order = _f.sort("diff")["label"].to_list()
    if _f.height >= 2:
        _pool = mean_t_interval(_f["diff"].to_numpy())
        _pooled_row = pl.DataFrame(
            {
                "label": ["POOLED (mean of schools)"],
                "diff": [_pool.mean],
                "diff_ci_low": [_pool.ci_low],
                "diff_ci_high": [_pool.ci_high],
            }
        )
        _order = [*_order, "POOLED (mean of schools)"]
    else:
        _pooled_row = pl.DataFrame(
            schema={"label": pl.String, "diff": pl.Float64, "diff_ci_low": pl.Float64,
                    "diff_ci_high": pl.Float64}
        )
    _y = alt.Y("label:N", sort=_order, title=None, axis=alt.Axis(labelLimit=320))
    _colors = alt.Scale(
        domain=["decrease (BH q < 0.05)", "increase (BH q < 0.05)", "not significant after BH"],
        range=["#1b7837", "#b2182b", "#7f7f7f"],
    )
    _schools = alt.Chart(_f).encode(y=_y)
    _layers = [
        _schools.mark_rule().encode(
            x=alt.X("diff_ci_low:Q", title="change post − pre (share)"),
            x2="diff_ci_high:Q",
            color=alt.Color("flag:N", scale=_colors, title=None),
        ),
        _schools.mark_point(filled=True, size=50).encode(
            x="diff:Q",
            color=alt.Color("flag:N", scale=_colors),
            tooltip=["skole", "pre_term", "post_term", "pre_n", "post_n", "linked_n",
                     alt.Tooltip("diff:Q", format="+.3f"), alt.Tooltip("p_value:Q", format=".3f"),
                     alt.Tooltip("p_adjusted:Q", format=".3f")],
        ),
        alt.Chart(_pooled_row).mark_rule(strokeWidth=3, color="black").encode(
            y=_y, x="diff_ci_low:Q", x2="diff_ci_high:Q"
        ),
        alt.Chart(_pooled_row).mark_point(shape="square", size=90, filled=True,
                                          color="black").encode(y=_y, x="diff:Q"),
        alt.Chart(pl.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q"),
    ]
    if has_truth:
        _layers.append(
            _schools.mark_point(shape="diamond", size=60, color="black", filled=False).encode(
                x=alt.X("true_change:Q"),
                tooltip=[alt.Tooltip("true_change:Q", format="+.3f", title="expected change")],
            )
        )
    forest_chart = alt.layer(*_layers).properties(
        width=460, height=max(120, 18 * len(_order))
    )
    # no school with a tested change in this phase (one round per school, phase not reached)
    forest_chart if _f.height else mo.callout(mo.md(
        f"No school has a tested before/after change for phase {phase_picker.value}: "
        "the forest plot is **not available**."), kind="info")
    return


@app.cell(hide_code=True)
def _(mo, power_caveat):
    mo.callout(mo.md(power_caveat("en")), kind="info")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## All pupils vs the same pupils

    The headline uses every respondent of both rounds (MOVER interval: linked pupils narrow it).
    The *same pupils* change follows only pupils linked across the two rounds (Newcombe paired
    interval, McNemar mid-p). It removes composition change (a trinn leaves each summer, a new
    one arrives, movers) but not age: the same pupils are one term older, and younger pupils
    report more bullying, so the linked change leans towards improvement.
    """)
    return


@app.cell
def _(alt, mo, pl, tested):
    _both = tested.filter(pl.col("linked_diff").is_not_null()).with_columns(
        (pl.col("diff_ci_high") - pl.col("diff_ci_low")).alias("width_all"),
        (pl.col("linked_ci_high") - pl.col("linked_ci_low")).alias("width_same"),
    )
    linked_summary = (
        _both.group_by("phase")
        .agg(
            pl.len().alias("schools"),
            pl.col("linked_n").median().alias("median linked pupils"),
            pl.col("diff").mean().round(4).alias("mean change, all pupils"),
            pl.col("linked_diff").mean().round(4).alias("mean change, same pupils"),
            pl.col("width_all").median().round(4).alias("median CI width, all"),
            pl.col("width_same").median().round(4).alias("median CI width, same"),
        )
        .sort("phase")
    )
    if _both.height == 0:
        _no_linked = mo.callout(mo.md(
            "No school has a before/after pair with linked pupils: the same-pupils comparison "
            "is **not available**."), kind="info")
    _lim = float(max(_both["diff"].abs().max() or 0.0,
                     _both["linked_diff"].abs().max() or 0.0)) * 1.05 or 0.1
    _line = alt.Chart(pl.DataFrame({"x": [-_lim, _lim]})).mark_line(
        strokeDash=[4, 4], color="grey"
    ).encode(x="x:Q", y="x:Q")
    linked_chart = (
        alt.Chart(_both)
        .mark_circle(size=45, opacity=0.75)
        .encode(
            x=alt.X("diff:Q", title="change, all pupils"),
            y=alt.Y("linked_diff:Q", title="change, same pupils"),
            color=alt.Color("phase:N"),
            tooltip=["skole", "phase", "linked_n", alt.Tooltip("diff:Q", format="+.3f"),
                     alt.Tooltip("linked_diff:Q", format="+.3f")],
        )
        + _line
    ).properties(width=360, height=300)
    mo.hstack([linked_chart, linked_summary], align="start") if _both.height else _no_linked
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Schools flagged after Benjamini–Hochberg

    Flags are read off the BH-adjusted p-values (q = 0.05 within each phase's family of tested
    schools). Untested cells (fewer than `min_n` respondents in a round) are not in the family.
    """)
    return


@app.cell
def _(pl, tested, verdict_label):
    flagged = (
        tested.filter(pl.col("p_adjusted") < 0.05)
        .with_columns(
            pl.col("verdict").map_elements(lambda v: verdict_label(v, "en"),
                                           return_dtype=pl.String)
        )
        .select("phase", "skole", "pre_term", "post_term", "pre_n", "post_n",
                pl.col("diff").round(4), pl.col("diff_ci_low").round(4),
                pl.col("diff_ci_high").round(4), pl.col("p_value").round(4),
                pl.col("p_adjusted").round(4), "verdict")
        .sort("phase", "diff")
    )
    flagged
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What may leave this notebook

    The tables above are analysis output for the researcher (role `forsker`). A table that is
    published goes through the role-scoped, suppressed API: `lmp_analytics.api.compare` hides a
    change whose pre or post round is hidden in the publication or has fewer than `min_n`
    respondents, and drops the same-pupils view below `min_n` linked pupils.
    """)
    return


@app.cell
def _(INDICATOR, api, phase_picker, pl):
    published = api.compare(indicator=INDICATOR, phase=phase_picker.value, role="forsker")
    published.select(
        "skole", "phase", "pre_term", "post_term", "pre_n", "post_n", "diff_pp", "diff_ci_low",
        "diff_ci_high", "p_adjusted", "verdict", "suppressed",
    ).with_columns(pl.col(pl.Float64).round(4))
    return


if __name__ == "__main__":
    app.run()
