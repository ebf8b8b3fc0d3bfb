# LMP researcher notebook 04 · Scales and mechanisms (relations, classroom management, alpha).
# Run: python notebooks/04_scales_mechanisms.py   (see notebooks/README.md)
# ruff: noqa: B018  (marimo displays the last expression of a cell)
import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="LMP 04 – scales and mechanisms")


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    # 4 · Scales and mechanisms

    Phase 2 of LMP works on the relations in the classroom — between teachers and pupils and
    among pupils — and on classroom management. If the programme reduces bullying *through*
    them, these scales should improve after phase 2 (e = 1), not before. Pupils' well-being
    (`trivsel_skala`: thriving and feeling safe) is shown beside them.

    | scale | items (1–5, higher = better) |
    |---|---|
    | `relasjon_laerer` teacher–pupil | the teacher cares, respects, helps |
    | `relasjon_elev` pupil–pupil | classmates are kind, I have friends |
    | `klasseledelse` classroom management | rules are clear, *no* noise in lessons (reversed) |
    | `trivsel_skala` well-being | I thrive, I feel safe |

    A scale score is the mean of the answered items (at least half of them); the scales exist
    only in the 2022 instrument versions. Reliability first (Cronbach's α with the Feldt
    interval, `lmp_analytics.evaluation.reliability`), then the before/after per phase
    (`phase_changes`: difference of means, Welch interval, Wilcoxon/Mann–Whitney, BH) and the
    staggered DiD event study (`programme_effect`). In the synthetic demo world the relation and
    management items carry a planted cumulative OR of 1.15 from phase 2 on; the well-being items
    carry none — a negative control.
    """)
    return


@app.cell
def _():
    import os

    import altair as alt
    import marimo as mo
    import polars as pl

    from lmp_analytics.codebook import load_codebook
    from lmp_analytics.evaluation.programme import programme_effect, school_term_panel
    from lmp_analytics.evaluation.reliability import scale_reliability
    from lmp_analytics.evaluation.school_change import phase_changes
    from lmp_analytics.stats import StatsInputError, mean_t_interval
    from lmp_analytics.synth.truth import (
        change_truth,
        event_study_truth,
        find_truth,
        scale_truth,
    )
    from lmp_analytics.terms import term_index
    from lmp_analytics.warehouse import reading
    from lmp_analytics.warehouse.queries import named

    return (
        StatsInputError,
        alt,
        change_truth,
        event_study_truth,
        find_truth,
        load_codebook,
        mean_t_interval,
        mo,
        named,
        os,
        phase_changes,
        pl,
        programme_effect,
        reading,
        scale_reliability,
        scale_truth,
        school_term_panel,
        term_index,
    )


@app.cell
def _(
    StatsInputError,
    find_truth,
    load_codebook,
    named,
    os,
    phase_changes,
    pl,
    programme_effect,
    reading,
    scale_reliability,
    scale_truth,
    school_term_panel,
):
    SCALES = ["relasjon_laerer", "relasjon_elev", "klasseledelse", "trivsel_skala"]
    LABELS = {
        s: load_codebook("spekter-2022-forebyggende").indicators[s].label("en") for s in SCALES
    }
    with reading() as _con:
        school_ids = _con.sql(named("reads", "schools")).pl()["skole_orgnr"].to_list()
        # Cronbach's alpha (lmp_analytics.evaluation.reliability): per version over each
        # pupil's first answer in it, and per term of one version.
        reliability = scale_reliability(_con, by_term=False, first_answer=True)
        reliability_by_term = scale_reliability(_con, by_term=True).filter(
            pl.col("versjon") == "spekter-2022-forebyggende")
        scale_changes = pl.concat(
            [
                phase_changes(_con, indicator=_s, phase=_k)
                for _s in SCALES
                for _k in ("1", "2", "3")
            ],
            how="vertical_relaxed",
        )
        # a design the warehouse cannot support (one pulje and no comparison schools, one
        # school, one round per school): the scale's effect is not available (None)
        scale_fits, unavailable = {}, {}
        for _s in SCALES:
            try:
                scale_fits[_s] = programme_effect(_con, _s)
            except StatsInputError as _exc:
                scale_fits[_s], unavailable[_s] = None, str(_exc)
        scale_panels = {_s: school_term_panel(_con, _s) for _s in SCALES}
    truth = find_truth(school_ids, os.environ.get("LMP_TRUTH"))
    scale_truths = {_s: scale_truth(truth, _s) for _s in SCALES} if truth else {}
    return (
        LABELS,
        SCALES,
        reliability,
        reliability_by_term,
        scale_changes,
        scale_fits,
        scale_panels,
        scale_truths,
        truth,
        unavailable,
    )


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Reliability per instrument version

    Cronbach's α on complete answers, once per scale and version, over each pupil's first
    answer in that version (one row per pupil, so repeated rounds do not count twice).
    METHODS.md: report α on the programme sample, not per school; a version with fewer than 50
    complete answers gets no α (no row).
    Two-item scales (pupil–pupil, management, well-being) have α
    equal to the Spearman–Brown corrected inter-item correlation, so expect lower values than
    for the three-item teacher scale.
    """)
    return


@app.cell
def _(SCALES, pl, reliability):
    reliability.with_columns(pl.col("indicator").cast(pl.Enum(SCALES))).sort(
        "indicator", "versjon").with_columns(
        pl.col("indicator").cast(pl.String), pl.col(pl.Float64).round(3)).rename(
        {"k": "items", "n": "complete answers", "ci_low": "CI low", "ci_high": "CI high"})
    return


@app.cell
def _(alt, reliability_by_term, term_index):
    _terms = sorted(reliability_by_term["term"].unique().to_list(), key=term_index)
    _base = alt.Chart(reliability_by_term.rename(
        {"ci_low": "CI low", "ci_high": "CI high"})).encode(
        x=alt.X("term:O", sort=_terms), color=alt.Color("indicator:N", title="scale")
    )
    alpha_chart = (
        _base.mark_line(point=True).encode(
            y=alt.Y("alpha:Q", title="Cronbach's α (Feldt 95 % CI)", scale=alt.Scale(zero=False))
        )
        + _base.mark_errorbar().encode(
            y=alt.Y("CI low:Q", title="Cronbach's α (Feldt 95 % CI)"), y2="CI high:Q"
        )
    ).properties(width=460, height=220, title="α per term, spekter-2022-forebyggende")
    alpha_chart
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Before and after each phase

    Per school, the change of the scale mean between the rounds around the phase (all pupils,
    Welch interval; Wilcoxon signed-rank on linked pupils for the test), pooled as the mean of
    the schools with a t interval over schools. Phase 1 is the placebo for these scales (the
    programme has not touched relations yet), phase 2 the target, phase 3 should add nothing
    new. No regression to the mean is expected here: the schools were selected on bullying,
    not on these scales.
    """)
    return


@app.cell
def _(LABELS, change_truth, mean_t_interval, pl, scale_changes, scale_truths):
    _rows = []
    for (_ind, _phase), _f in scale_changes.filter(pl.col("tested")).group_by(
        "indicator", "phase", maintain_order=True
    ):
        # pooling needs two schools; with one the pooled change is not available (None)
        _pool = mean_t_interval(_f["diff"].to_numpy()) if _f.height >= 2 else None
        _row = {
            "scale": _ind, "label": LABELS[_ind], "phase": _phase, "schools": _f.height,
            "pooled change": _pool.mean if _pool else None,
            "CI low": _pool.ci_low if _pool else None,
            "CI high": _pool.ci_high if _pool else None,
            "BH flags (q < 0.05)": _f.filter(pl.col("p_adjusted") < 0.05).height,
        }
        if scale_truths:
            _t = change_truth(scale_truths[_ind], _f)
            _row |= {"true change": _t["true_change"].mean(),
                     "true programme part": _t["true_programme"].mean()}
        _rows.append(_row)
    _schema = {"scale": pl.String, "label": pl.String, "phase": pl.String, "schools": pl.Int64,
               "pooled change": pl.Float64, "CI low": pl.Float64, "CI high": pl.Float64,
               "BH flags (q < 0.05)": pl.Int64}
    if scale_truths:
        _schema |= {"true change": pl.Float64, "true programme part": pl.Float64}
    scale_pooled = pl.DataFrame(_rows, schema=_schema).with_columns(
        ((pl.col("CI low") <= pl.col("true change")) & (pl.col("true change") <= pl.col("CI high")))
        .alias("truth in CI") if scale_truths else pl.lit(None).alias("truth in CI")
    ).sort("scale", "phase")
    scale_pooled.with_columns(pl.col(pl.Float64).round(4))
    return (scale_pooled,)


@app.cell
def _(alt, scale_pooled, truth):
    _base = alt.Chart().encode(y=alt.Y("phase:N", title="phase"))
    _layers = [
        alt.Chart().mark_rule(strokeDash=[4, 4]).encode(x=alt.datum(0)),
        _base.mark_rule(strokeWidth=2).encode(
            x=alt.X("CI low:Q", title="pooled change of the scale mean (post − pre)"),
            x2="CI high:Q", color=alt.Color("phase:N", legend=None),
        ),
        _base.mark_point(filled=True, size=60).encode(
            x="pooled change:Q", color=alt.Color("phase:N", legend=None)
        ),
    ]
    if truth is not None:
        _layers.append(_base.mark_point(shape="diamond", size=70, color="black",
                                        filled=False).encode(x="true change:Q"))
    phase_scale_chart = (
        alt.layer(*_layers, data=scale_pooled)
        .properties(width=380, height=80)
        .facet(row=alt.Row("label:N", title=None, header=alt.Header(labelAngle=0,
                                                                     labelAlign="left")))
    )
    phase_scale_chart
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Programme effect on the scales

    The same staggered difference-in-differences as notebook 3, on each scale's school × term
    panel (mean of the pupils' scale scores; schools weigh the same). e = 0 is after phase 1,
    e = 1 after phase 2. Black diamonds: the planted truth on the same scale.
    """)
    return


@app.cell
def _(LABELS, SCALES, event_study_truth, mo, pl, scale_fits, scale_panels, scale_truths,
      unavailable):
    _why = "\n".join(f"- *{LABELS[_s]}*: {_r}" for _s, _r in unavailable.items())
    mo.stop(len(unavailable) == len(SCALES), mo.callout(mo.md(
        "**The programme effect on the scales is not available for this warehouse**: the "
        "staggered DiD needs participating schools with rounds before and after their start "
        f"and control schools in the same terms.\n\n{_why}"), kind="warn"))
    _frames = []
    for _s in SCALES:
        if scale_fits[_s] is None:
            continue
        _ev = scale_fits[_s].did.event_study.with_columns(
            pl.lit(_s).alias("scale"), pl.lit(LABELS[_s]).alias("label")
        )
        if scale_truths:
            _ev = _ev.join(
                event_study_truth(scale_truths[_s], scale_panels[_s], scale_fits[_s].did.att_gt),
                on="e", how="left",
            ).drop("cohorts")
        else:
            _ev = _ev.with_columns(pl.lit(None, pl.Float64).alias("truth"))
        _frames.append(_ev)
    scale_events = pl.concat(_frames, how="vertical_relaxed").with_columns(
        ((pl.col("ci_low") <= pl.col("truth")) & (pl.col("truth") <= pl.col("ci_high"))).alias(
            "truth in CI"
        )
    )
    scale_effects = (
        scale_events.filter(pl.col("e").is_in([0, 1]))
        .select("scale", "e", "att", "ci_low", "ci_high", "truth", "truth in CI")
        .join(
            pl.DataFrame(
                {
                    "scale": SCALES,
                    "pre-trend p (F)": [
                        scale_fits[_s].did.pre_trend.p_value
                        if scale_fits[_s] is not None and scale_fits[_s].did.pre_trend is not None
                        else None
                        for _s in SCALES
                    ],
                }
            ),
            on="scale",
        )
        .sort("scale", "e")
    )
    scale_effects.with_columns(pl.col(pl.Float64).round(4))
    return scale_effects, scale_events


@app.cell
def _(alt, pl, scale_events, truth):
    _ev = scale_events.filter(pl.col("e").is_between(-4, 4))
    _base = alt.Chart().encode(x=alt.X("e:O", title="event time e"))
    _layers = [
        alt.Chart().mark_rule(strokeDash=[4, 4]).encode(y=alt.datum(0)),
        _base.mark_rule().encode(y=alt.Y("ci_low:Q", title="ATT on the scale mean"),
                                 y2="ci_high:Q"),
        _base.mark_point(filled=True, size=50).encode(y="att:Q"),
    ]
    if truth is not None:
        _layers.append(_base.mark_point(shape="diamond", size=60, color="black",
                                        filled=False).encode(y="truth:Q"))
    scale_event_chart = (
        alt.layer(*_layers, data=_ev)
        .properties(width=230, height=170)
        .facet(facet=alt.Facet("label:N", title=None), columns=2)
    )
    scale_event_chart
    return


@app.cell(hide_code=True)
def _(LABELS, SCALES, mo, pl, scale_effects, scale_events, truth):
    def _cell(scale, e):
        _r = scale_effects.filter((pl.col("scale") == scale) & (pl.col("e") == e))
        if _r.height == 0 or _r["att"][0] is None:  # no pulje reached e, or no DiD for scale
            return "not available"
        r = _r.row(0, named=True)
        t = f" (truth {r['truth']:+.3f})" if truth is not None and r["truth"] is not None else ""
        return f"{r['att']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]{t}"

    _lines = "\n".join(
        f"| {LABELS[_s]} | {_cell(_s, 0)} | {_cell(_s, 1)} |" for _s in SCALES
    )
    if truth is not None:
        _post = scale_events.filter(pl.col("e") >= 0)
        _pre = scale_events.filter(pl.col("e") < 0)
        _cov = (
            f"Across all event times the intervals cover the planted truth in "
            f"{_post['truth in CI'].sum()} of {_post.height} post-period and "
            f"{_pre['truth in CI'].sum()} of {_pre.height} pre-period estimates; with four "
            "scales and many event times an occasional miss is expected (the estimates are "
            "not adjusted for multiplicity)."
        )
    else:
        _cov = ""
    mo.md(f"""
    ## Reading the mechanism

    | scale | after phase 1 (e = 0) | after phase 2 (e = 1) |
    |---|---|---|
    {_lines}

    A mechanism through relations and classroom management predicts no change at e = 0 and an
    improvement at e = 1 for the first three scales; well-being is not targeted directly.
    {_cov} Scale effects of a few hundredths of a point are small against school-level noise:
    six schools per pulje rarely separate them from zero, so the interval matters more than
    whether it excludes 0.
    """)
    return


if __name__ == "__main__":
    app.run()
