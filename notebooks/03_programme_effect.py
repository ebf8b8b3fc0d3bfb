# LMP researcher notebook 03 · Programme effect (staggered DiD, event study, naive, TWFE).
# Run: python notebooks/03_programme_effect.py   (see notebooks/README.md)
# ruff: noqa: B018  (marimo displays the last expression of a cell)
import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="LMP 03 – programme effect")


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    # 3 · The programme effect

    Schools start LMP in different terms (puljer), and all of them were **selected because of
    high bullying**. A before/after drop therefore mixes the programme with the secular trend and
    with **regression to the mean** (RTM): part of the transient high a school was selected on
    disappears by itself. The headline estimate is a staggered difference-in-differences
    (Callaway & Sant'Anna 2021) on the school × term panel of the share bullied (`mobbet` ≥ 3):

    - the school's group *g* is the term after its phase-1 term — the first round after any
      exposure; the round in the phase-1 term is *e* = −1 (DESIGN.md, derived from the phase
      calendar, never from round numbers);
    - *e* = 0 is after phase 1, **e = 1 after phase 2** — the phase-2 programme effect;
    - controls: schools not yet treated in that term plus the comparison schools that never join;
    - every cell ATT(g,t) is a 2×2 DiD of school shares (each school weighs the same); the event
      study averages them by pulje size; intervals use t with G − 1 degrees of freedom.

    All estimates come from `lmp_analytics.evaluation.programme.programme_effect` (and
    `lmp_analytics.stats.did.staggered_did` for one sensitivity panel). On the synthetic demo
    world the planted truth (`truth.json`, odds ratios on the logit scale) is converted to the
    same risk-difference estimand by `lmp_analytics.synth.truth` and shown beside every number.
    """)
    return


@app.cell
def _():
    import os

    import altair as alt
    import marimo as mo
    import polars as pl

    from lmp_analytics.evaluation.programme import (
        naive_change,
        programme_effect,
        school_term_panel,
    )
    from lmp_analytics.evaluation.school_change import phase_changes
    from lmp_analytics.stats import StatsInputError, mean_t_interval
    from lmp_analytics.stats.did import staggered_did, twfe_contrast
    from lmp_analytics.synth.truth import (
        bullying_truth,
        event_study_truth,
        expected_panel,
        find_truth,
        naive_change_truth,
        respondents_by_trinn,
        simple_truth,
    )
    from lmp_analytics.warehouse import reading
    from lmp_analytics.warehouse.queries import named

    return (
        StatsInputError,
        alt,
        bullying_truth,
        event_study_truth,
        expected_panel,
        find_truth,
        mean_t_interval,
        mo,
        naive_change,
        naive_change_truth,
        named,
        os,
        phase_changes,
        pl,
        programme_effect,
        reading,
        respondents_by_trinn,
        school_term_panel,
        simple_truth,
        staggered_did,
        twfe_contrast,
    )


@app.cell
def _():
    def sgn(x, spec: str = "+.4f") -> str:
        """``x`` formatted with ``spec``, or "not available" when it cannot be computed."""
        return "not available" if x is None else format(x, spec)

    return (sgn,)


@app.cell
def _(
    StatsInputError,
    bullying_truth,
    find_truth,
    named,
    os,
    phase_changes,
    pl,
    programme_effect,
    reading,
    respondents_by_trinn,
    school_term_panel,
    staggered_did,
):
    INDICATOR = "mobbet"
    HEADLINE = "not-yet-treated + comparison (headline)"
    # Sensitivity to the control group and to the timing assumptions (METHODS.md §1c).
    SPECS = {
        HEADLINE: {},
        "comparison schools only (never treated)": {"control_group": "never_treated"},
        "universal base period (all vs g − 1)": {"base_period": "universal"},
        "anticipation = 1 (base g − 2)": {"anticipation": 1},
        "comparison only, anticipation = 1": {"control_group": "never_treated",
                                              "anticipation": 1},
    }
    PARTICIPANTS_ONLY = "participants only (not-yet-treated puljer)"
    # A design the warehouse cannot support (one pulje and no comparison schools, one school,
    # one round per school) is "not available" (None) with the estimator's reason.
    fits, unavailable = {}, {}
    with reading() as _con:
        school_ids = _con.sql(named("reads", "schools")).pl()["skole_orgnr"].to_list()
        panel = school_term_panel(_con, INDICATOR)
        # Anticipation = 1 compares with g − 2: it needs participants' rounds before their
        # phase-1 term, which LMP schools normally do not have (Spekter starts in phase 1).
        _early = panel.filter(pl.col("g").is_not_null() & pl.col("y").is_not_null()
                              & (pl.col("t") <= pl.col("g") - 2)).height > 0
        _no_early = ("needs participants' Spekter rounds before their phase-1 term, which this "
                     "warehouse does not have (Spekter starts in phase 1)")
        for _label, _kw in SPECS.items():
            if _kw.get("anticipation") and not _early:
                fits[_label], unavailable[_label] = None, _no_early
                continue
            try:
                fits[_label] = programme_effect(_con, INDICATOR, **_kw)
            except StatsInputError as _exc:
                fits[_label], unavailable[_label] = None, str(_exc)
        # The naive before/after is the pooled phase-1 change; phase_changes gives each school's
        # change so the pooled mean can carry an interval over schools.
        phase1 = phase_changes(_con, indicator=INDICATOR, phase=1)
        composition = respondents_by_trinn(_con, INDICATOR)
    # Without the comparison schools only later puljer serve as controls (the last pulje is
    # control-only): the design METHODS.md §1e warns about under staggered selection.
    participants_panel = panel.filter(pl.col("g").is_not_null())
    # Without rounds before phase 1 no pulje is observed untreated beside another's base term.
    participants_did = None
    if not _early:
        unavailable[PARTICIPANTS_ONLY] = _no_early
    else:
        try:
            participants_did = staggered_did(
                participants_panel.select("skole_orgnr", "t", "g", "y"))
        except StatsInputError as _exc:
            unavailable[PARTICIPANTS_ONLY] = str(_exc)
    headline = fits[HEADLINE]
    truth = find_truth(school_ids, os.environ.get("LMP_TRUTH"))
    school_truth = bullying_truth(truth, composition) if truth else None
    return (
        HEADLINE,
        PARTICIPANTS_ONLY,
        fits,
        headline,
        panel,
        participants_did,
        participants_panel,
        phase1,
        school_truth,
        truth,
        unavailable,
    )


@app.cell(hide_code=True)
def _(HEADLINE, headline, mo, unavailable):
    _lines = "\n".join(f"- *{_label}*: {_why}" for _label, _why in unavailable.items())
    _head = (
        "**The programme effect is not available for this warehouse**: the staggered DiD "
        "needs participating schools with rounds before and after their start and control "
        "schools (comparison schools or a later pulje) in the same terms. The sections that "
        "rest on it are left out."
        if headline is None
        else "Some specifications are **not available** for this warehouse (their rows in the "
        "sensitivity table stay empty):"
    )
    mo.callout(mo.md(f"{_head}\n\n{_lines}"), kind="warn") if unavailable else None
    return


@app.cell
def _(
    StatsInputError,
    expected_panel,
    headline,
    naive_change,
    panel,
    school_truth,
    staggered_did,
    twfe_contrast,
):
    # Every estimator here is linear in y: run on the noise-free panel of expected school shares
    # (from the planted parameters) it returns its expected value in this world; on the same
    # panel with the effect switched off, its bias from trend, composition and regression to the
    # mean alone. Same package functions, same settings as the headline.
    noise_free = {}
    if school_truth is not None and headline is not None:
        try:
            for _name, _programme in (("expected", True), ("without programme", False)):
                _p = expected_panel(school_truth, panel, programme=_programme)
                _cells = _p.select("skole_orgnr", "t", "g", "y")
                noise_free[_name] = {
                    "did": staggered_did(_cells),
                    "naive": naive_change(_p),
                    "twfe": twfe_contrast(_cells),
                }
        except StatsInputError:  # the noise-free comparison is optional
            noise_free = {}
    return (noise_free,)


@app.cell
def _(event_study_truth, headline, mo, noise_free, panel, pl, school_truth):
    mo.stop(headline is None)
    event = headline.did.event_study
    if school_truth is not None:
        event = event.join(
            event_study_truth(school_truth, panel, headline.did.att_gt), on="e", how="left"
        )
    else:
        event = event.with_columns(pl.lit(None, pl.Float64).alias("truth"))
    if noise_free:
        event = event.join(
            noise_free["expected"]["did"].event_study.select(
                "e", pl.col("att").alias("expected")
            ),
            on="e", how="left",
        )
    else:
        event = event.with_columns(pl.lit(None, pl.Float64).alias("expected"))
    event = event.with_columns(
        ((pl.col("ci_low") <= pl.col("truth")) & (pl.col("truth") <= pl.col("ci_high"))).alias(
            "truth_in_ci"
        ),
        pl.when(pl.col("e") < 0).then(pl.lit("pre-period (placebo)"))
        .otherwise(pl.lit("post-period")).alias("period"),
    )
    # no estimate after phase 2 (e = 1) when no pulje has reached it: not available (None)
    _e1 = event.filter(pl.col("e") == 1)
    phase2 = _e1.row(0, named=True) if _e1.height else dict.fromkeys(event.columns)
    return event, phase2


@app.cell(hide_code=True)
def _(headline, mo, phase2, sgn, truth):
    if truth is not None and phase2["att"] is not None:
        _verdict = (
            "lies **inside**" if phase2["truth_in_ci"] else "lies **outside**"
        )
        _truth_text = (
            f" The planted truth for the same cells is **{sgn(phase2['truth'])}**, which "
            f"{_verdict} the interval."
        )
    else:
        _truth_text = ""
    print(
        f"phase-2 programme effect (e = 1): {sgn(phase2['att'])} "
        f"[{sgn(phase2['ci_low'])}, {sgn(phase2['ci_high'])}]"
        + (f", truth {sgn(phase2['truth'])}" if truth is not None else "")
    )
    _pp = "" if phase2["att"] is None else f", i.e. {100 * phase2['att']:+.1f} percentage points"
    mo.md(f"""
    ## Headline: the effect after phase 2

    Share bullied (`mobbet` ≥ 3) after phase 2 (e = 1), Callaway–Sant'Anna with not-yet-treated
    and comparison schools as controls: **{sgn(phase2["att"])}**
    (95 % CI {sgn(phase2["ci_low"])} to {sgn(phase2["ci_high"])}; t with
    {headline.did.df} df){_pp}.{_truth_text}
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Event study with pre-trends

    Pre-period estimates (e < 0) are placebo contrasts: with parallel trends and no anticipation
    they scatter around 0. Black diamonds: the planted truth of each event time (0 before the
    programme). Red ticks: what the estimator returns in this world without sampling noise
    (its expectation) — where a tick sits away from its diamond, the estimator is biased.
    """)
    return


@app.cell
def _(alt, event, headline, pl, truth):
    _base = alt.Chart(event).encode(x=alt.X("e:O", title="event time e (terms since g)"))
    _colors = alt.Scale(domain=["pre-period (placebo)", "post-period"],
                        range=["#7f7f7f", "#2166ac"])
    _layers = [
        alt.Chart(pl.DataFrame({"y": [0.0]})).mark_rule(strokeDash=[4, 4]).encode(y="y:Q"),
        _base.mark_rule(strokeWidth=2).encode(
            y=alt.Y("ci_low:Q", title="ATT, change in share bullied"), y2="ci_high:Q",
            color=alt.Color("period:N", scale=_colors, title=None),
        ),
        _base.mark_point(filled=True, size=70).encode(
            y="att:Q", color=alt.Color("period:N", scale=_colors),
            tooltip=["e", alt.Tooltip("att:Q", format="+.4f"),
                     alt.Tooltip("ci_low:Q", format="+.4f"),
                     alt.Tooltip("ci_high:Q", format="+.4f"),
                     alt.Tooltip("truth:Q", format="+.4f")],
        ),
    ]
    if truth is not None:
        _layers += [
            _base.mark_point(shape="diamond", size=80, color="black", filled=False).encode(
                y="truth:Q"
            ),
            _base.mark_tick(color="#d6604d", thickness=2, size=18).encode(y="expected:Q"),
        ]
    _pt = headline.did.pre_trend
    _title = (
        f"Event study (pre-trend F = {_pt.f_stat:.2f}, p = {_pt.p_value:.3g}, k = {_pt.k})"
        if _pt is not None and _pt.p_value is not None
        else "Event study"
    )
    event_chart = alt.layer(*_layers).properties(width=520, height=300, title=_title)
    event_chart
    return


@app.cell
def _(event, pl):
    event.select(
        "e", "period", pl.col("att").round(4), pl.col("se").round(4),
        pl.col("ci_low").round(4), pl.col("ci_high").round(4), pl.col("truth").round(4),
        "truth_in_ci", pl.col("expected").round(4),
        (pl.col("expected") - pl.col("truth")).round(4).alias("bias"),
    )
    return


@app.cell(hide_code=True)
def _(headline, mo):
    mo.stop(headline is None)
    _pt = headline.did.pre_trend
    _warn = "\n".join(f"- {w}" for w in headline.did.warnings) or "- none"
    _pre = (
        f"Wald test of all {_pt.k} pre-period ATT(g,t) = 0 with the finite-sample correction: "
        f"F({_pt.df1}, {_pt.df2}) = {_pt.f_stat:.2f}, **p = {_pt.p_value:.3g}** (the raw χ² "
        f"version, p = {_pt.chi2_p_value:.2g}, over-rejects with {_pt.clusters} schools)."
        if _pt is not None and _pt.p_value is not None
        else "No pre-trend test (too few pre-period cells or schools)."
    )
    mo.md(f"""
    **Pre-trend check.** {_pre}

    A rejection is what METHODS.md §1e predicts when each pulje is selected on a transient high
    shortly before its own start (here two terms before phase 1, e = −3): the selected schools'
    shares climb to the selection term and fall back afterwards, a path no control group shares,
    so the pre-period contrasts are not centred on 0 even without any effect — and the fall
    goes on after the base period, which biases the post-period estimates too (the red ticks).
    The sensitivity table below shows how much the headline leans on each control group.

    Warnings from the estimator:

    {_warn}
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why the naive before/after misleads

    The naive estimate is what a before/after view of the participants alone shows: the mean
    change from the round before phase 1 (e = −1) to the round after it (e = 0). Its target is
    the effect after phase 1 (e = 0). Static two-way fixed effects (TWFE, `y ~ 1[t ≥ g] +
    school + term`) is the textbook regression; under staggered adoption with growing effects it
    also uses already-treated schools as controls (Goodman-Bacon 2021). Side by side, each with
    the truth of *its own* target:
    """)
    return


@app.cell
def _(
    event_study_truth,
    headline,
    mean_t_interval,
    mo,
    naive_change_truth,
    noise_free,
    panel,
    phase1,
    pl,
    school_truth,
    simple_truth,
):
    mo.stop(headline is None)

    def _estimates(did, naive, twfe):
        # an event time no pulje reached, or no naive pair, is not available (None)
        _none = {"att": None, "ci_low": None, "ci_high": None}
        _ev = {r["e"]: r for r in did.event_study.iter_rows(named=True)}
        _e0, _e1 = _ev.get(0, _none), _ev.get(1, _none)
        out = {
            "naive": (naive.estimate if naive is not None else None, None, None),
            "cs0": (_e0["att"], _e0["ci_low"], _e0["ci_high"]),
            "cs1": (_e1["att"], _e1["ci_low"], _e1["ci_high"]),
            "simple": (did.simple.att, did.simple.ci_low, did.simple.ci_high),
        }
        if twfe is not None:
            out["twfe"] = (twfe.coef, twfe.ci_low, twfe.ci_high)
        return out

    _did = headline.did
    realised = _estimates(_did, headline.naive, headline.twfe)
    # The naive estimate is the pooled phase-1 change; its interval is the t interval over the
    # schools' changes (the same rounds: pre(1) = e = -1, post(1) = e = 0).
    _diffs = phase1.filter(pl.col("tested"))["diff"].drop_nulls().to_numpy()
    if len(_diffs) >= 2:  # an interval over schools needs two of them
        _naive_ci = mean_t_interval(_diffs)
        realised["naive"] = (realised["naive"][0], _naive_ci.ci_low, _naive_ci.ci_high)

    naive_truth = None
    expected, null_world, targets = {}, {}, {}
    if school_truth is not None:
        naive_truth = naive_change_truth(school_truth, panel)
        _ev_truth = dict(
            event_study_truth(school_truth, panel, _did.att_gt).select("e", "truth").iter_rows()
        )
        _simple = simple_truth(school_truth, panel, _did.att_gt)
        targets = {"naive": naive_truth.effect, "cs0": _ev_truth.get(0),
                   "cs1": _ev_truth.get(1),
                   "simple": _simple, "twfe": _simple}
        for _store, _name in ((expected, "expected"), (null_world, "without programme")):
            _nf = noise_free[_name]
            _store.update(
                {k: v[0] for k, v in _estimates(_nf["did"], _nf["naive"], _nf["twfe"]).items()}
            )
    _labels = {
        "naive": ("naive before/after, e = −1 → 0 (participants only)",
                  "effect after phase 1 (e = 0)"),
        "cs0": ("Callaway–Sant'Anna, e = 0", "effect after phase 1 (e = 0)"),
        "cs1": ("Callaway–Sant'Anna, e = 1", "effect after phase 2 (e = 1)"),
        "simple": ("Callaway–Sant'Anna, simple average", "average post-period effect"),
        "twfe": ("static TWFE (comparison only)", "average post-period effect"),
    }
    side_by_side = pl.DataFrame(
        [
            (_labels[k][0], v[0], v[1], v[2], _labels[k][1], targets.get(k), expected.get(k),
             null_world.get(k))
            for k, v in realised.items()
        ],
        schema={"estimator": pl.String, "estimate": pl.Float64, "CI low": pl.Float64,
                "CI high": pl.Float64, "target": pl.String, "truth": pl.Float64,
                "expected in this world": pl.Float64, "without the programme": pl.Float64},
        orient="row",
    ).with_columns(
        (pl.col("expected in this world") - pl.col("truth")).alias("bias"),
        ((pl.col("CI low") <= pl.col("truth")) & (pl.col("truth") <= pl.col("CI high"))).alias(
            "truth in CI"
        ),
    )
    side_by_side.with_columns(pl.col(pl.Float64).round(4))
    return naive_truth, side_by_side


@app.cell(hide_code=True)
def _(mo, naive_truth, pl, sgn, side_by_side):
    _naive = side_by_side.row(0, named=True)
    _cs1 = side_by_side.filter(pl.col("estimator").str.contains("e = 1")).row(0, named=True)
    _twfe = side_by_side.filter(pl.col("estimator").str.starts_with("static TWFE"))
    if naive_truth is not None:
        _twfe_text = (
            f" Static TWFE is expected at {sgn(_twfe['expected in this world'].item())} against "
            f"a true average effect of {sgn(_twfe['truth'].item())}: pulled towards 0 by the "
            "comparisons with already-treated schools."
            if _twfe.height else ""
        )
        _text = f"""
    **Reading the table.** *expected in this world* is each estimator run on the noise-free
    panel of expected school shares (from the planted parameters); *without the programme* is
    the same on the world with the effect switched off — the answer the estimator gives when
    the truth is 0. *bias* = expected − truth (for the linear estimators here it equals the
    value without the programme; TWFE weighs the cells differently from its target).

    **The naive before/after carries what the world does without the programme.** Over its
    {naive_truth.schools} schools the true phase-1 effect is **{sgn(naive_truth.effect)}**, but
    without any programme the same before/after would show
    **{sgn(naive_truth.no_programme_change)}**: {sgn(naive_truth.trend_and_composition)} from the
    secular trend and grade mix and **{sgn(naive_truth.transient)} from the change of the
    transient shock** (the schools were selected on their Elevundersøkelsen shares of the
    selection years, a year or more before phase 1, so little of that high is left to fade
    here; the national panel shows the regression to the mean). So the naive estimator targets
    {sgn(naive_truth.expected_naive)} instead of {sgn(naive_truth.effect)}, a bias of
    {sgn(naive_truth.no_programme_change)} ({
        abs(naive_truth.no_programme_change) / abs(naive_truth.effect):.0%} of the effect). In this
    one realisation the naive estimate is {sgn(_naive["estimate"])}
    (95 % CI {sgn(_naive["CI low"])} to {sgn(_naive["CI high"])}): pupil and class sampling
    noise moves one realisation around its expectation, which is why the bias is computed from
    the truth rather than read off a single estimate.

    **Callaway–Sant'Anna removes the trend, not all of the selection.** Its value without the
    programme is {sgn(_cs1["without the programme"])} at e = 1: each pulje was picked on a
    transient high in the selection years before its start, and what is left of it fades after
    the base period, which no control group shares (METHODS.md §1e; the pre-trend test above
    flags it). Its phase-2 estimate {sgn(_cs1["estimate"])} (CI {sgn(_cs1["CI low"])} to
    {sgn(_cs1["CI high"])}) {"covers" if _cs1["truth in CI"] else "misses"} the truth
    {sgn(_cs1["truth"])}; read the size with that residual bias in mind.{_twfe_text}
    """
    else:
        _text = (
            f"Naive before/after {sgn(_naive['estimate'])}: it contains the trend and regression "
            "to the mean as well as any effect — do not read it as the programme's effect."
        )
    mo.md(_text)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ### Regression to the mean in event time

    Participants' mean school share by event time (each school weighs the same). With the truth
    known: the expected share with the programme, without it, and without it *and* without the
    transient school shocks. The gap between the last two is the transient high the puljer were
    selected on (two terms before their start, e = −3); its decay towards e = 0 is the decline a
    before/after view would credit to the programme.
    """)
    return


@app.cell
def _(alt, panel, pl, school_truth):
    _part = panel.filter(pl.col("g").is_not_null()).with_columns(
        (pl.col("t") - pl.col("g")).alias("e")
    )
    _lines = [_part.group_by("e").agg(pl.col("y").mean().alias("share"), pl.len().alias("schools"))
              .with_columns(pl.lit("observed").alias("series"))]
    if school_truth is not None:
        _st = _part.select("skole_orgnr", "t", "e").join(
            school_truth.select("skole_orgnr", "t", "treated", "untreated",
                                "untreated_no_shock"),
            on=["skole_orgnr", "t"],
        )
        for _col, _name in (("treated", "expected, with programme"),
                            ("untreated", "expected, without programme"),
                            ("untreated_no_shock", "expected, without programme or shocks")):
            _lines.append(
                _st.group_by("e").agg(pl.col(_col).mean().alias("share"),
                                      pl.len().alias("schools"))
                .with_columns(pl.lit(_name).alias("series"))
            )
    rtm_profile = pl.concat(_lines, how="vertical_relaxed").sort("series", "e")
    rtm_chart = (
        alt.Chart(rtm_profile)
        .mark_line(point=True)
        .encode(
            x=alt.X("e:O", title="event time e"),
            y=alt.Y("share:Q", title="mean school share bullied", scale=alt.Scale(zero=False)),
            color=alt.Color("series:N", title=None),
            strokeDash=alt.condition(alt.datum.series == "observed", alt.value([1, 0]),
                                     alt.value([5, 3])),
            tooltip=["series", "e", alt.Tooltip("share:Q", format=".4f"), "schools"],
        )
        .properties(width=520, height=280)
    )
    rtm_chart
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Sensitivity to the control group and timing

    The same estimator under other assumptions. *Comparison schools only* drops the
    not-yet-treated controls (robust to staggered selection, relies on the comparison schools'
    trend). *Universal base period* measures every term against g − 1. *Anticipation = 1* allows
    the phase-1 round (where Spekter itself is introduced) to be affected, so the base moves to
    g − 2 — right after the selection peak, which here makes RTM worse, not better.
    *Participants only* uses later puljer as the only controls (the last pulje never gets a
    post-period estimate).
    """)
    return


@app.cell
def _(
    PARTICIPANTS_ONLY,
    event_study_truth,
    fits,
    panel,
    participants_did,
    participants_panel,
    pl,
    school_truth,
):
    def _row(label, did, used_panel):
        if did is None:  # the design is not available for this warehouse: an empty row
            return {"specification": label, "treated schools": None}
        _ev = {r["e"]: r for r in did.event_study.iter_rows(named=True)}
        _truth = {}
        if school_truth is not None:
            _truth = dict(
                event_study_truth(school_truth, used_panel, did.att_gt)
                .select("e", "truth").iter_rows()
            )
        _e1 = _ev.get(1)
        _pt = did.pre_trend
        return {
            "specification": label,
            "e=0": _ev[0]["att"] if 0 in _ev else None,
            "e=1": _e1["att"] if _e1 else None,
            "e=1 CI low": _e1["ci_low"] if _e1 else None,
            "e=1 CI high": _e1["ci_high"] if _e1 else None,
            "truth e=1": _truth.get(1),
            "e=-1 (placebo)": _ev[-1]["att"] if -1 in _ev else None,
            "simple": did.simple.att,
            "pre-trend p (F)": _pt.p_value if _pt is not None else None,
            "treated schools": did.treated_units,
        }

    _rows = [_row(label, fit.did if fit is not None else None, panel)
             for label, fit in fits.items()]
    _rows.append(_row(PARTICIPANTS_ONLY, participants_did, participants_panel))
    _schema = {"specification": pl.String, "e=0": pl.Float64, "e=1": pl.Float64,
               "e=1 CI low": pl.Float64, "e=1 CI high": pl.Float64, "truth e=1": pl.Float64,
               "e=-1 (placebo)": pl.Float64, "simple": pl.Float64,
               "pre-trend p (F)": pl.Float64, "treated schools": pl.Int64}
    sensitivity = pl.DataFrame(_rows, schema=_schema).with_columns(
        ((pl.col("e=1 CI low") <= pl.col("truth e=1"))
         & (pl.col("truth e=1") <= pl.col("e=1 CI high"))).alias("truth in CI")
    )
    sensitivity.with_columns(pl.col(pl.Float64).round(4))
    return (sensitivity,)


@app.cell
def _(alt, pl, sensitivity, truth):
    _order = sensitivity["specification"].to_list()
    _base = alt.Chart(sensitivity).encode(
        y=alt.Y("specification:N", sort=_order, title=None, axis=alt.Axis(labelLimit=320))
    )
    _layers = [
        alt.Chart(pl.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q"),
        _base.mark_rule(strokeWidth=2).encode(
            x=alt.X("e=1 CI low:Q", title="effect after phase 2 (e = 1)"), x2="e=1 CI high:Q"
        ),
        _base.mark_point(filled=True, size=70).encode(x="e=1:Q"),
    ]
    if truth is not None:
        _layers.append(_base.mark_point(shape="diamond", size=80, color="black",
                                        filled=False).encode(x="truth e=1:Q"))
    sensitivity_chart = alt.layer(*_layers).properties(width=420, height=200)
    sensitivity_chart
    return


@app.cell(hide_code=True)
def _(HEADLINE, mo, naive_truth, phase2, pl, sensitivity, sgn, side_by_side, truth):
    _s = sensitivity.filter(pl.col("specification") == HEADLINE).row(0, named=True)
    _covered = sensitivity.filter(pl.col("truth in CI")).height
    _p = _s["pre-trend p (F)"]
    _pretrend = (
        f"The pre-trend test {'rejects' if _p < 0.05 else 'does not reject'} (p = {_p:.3g})"
        if _p is not None
        else "There is no pre-trend test (no rounds before the phase-1 term)"
    )
    _cs1 = side_by_side.filter(pl.col("estimator").str.contains("e = 1")).row(0, named=True)
    _twfe = side_by_side.filter(pl.col("estimator").str.starts_with("static TWFE"))
    _twfe_line = (
        f"- Static TWFE {sgn(_twfe['estimate'].item())} (expected "
        f"{sgn(_twfe['expected in this world'].item())}) against a true average effect of "
        f"{sgn(_twfe['truth'].item())}: attenuated by the forbidden comparisons.\n"
        if truth is not None and _twfe.height
        else ""
    )
    def _fmt(est, low, high):
        return f"{sgn(est)} | {sgn(low)} to {sgn(high)}"

    _naive = side_by_side.select("estimate", "CI low", "CI high").row(0)
    _cs1_row = (phase2["att"], phase2["ci_low"], phase2["ci_high"])
    if truth is not None:
        _text = f"""
    ## Conclusion (synthetic demo world)

    | | estimate | 95 % CI | planted truth |
    |---|---|---|---|
    | phase-2 effect, CS e = 1 | {_fmt(*_cs1_row)} | {sgn(phase2["truth"])} |
    | naive before/after (target e = 0) | {_fmt(*_naive)} | {sgn(naive_truth.effect)} |

    - **The phase-2 interval {"covers" if phase2["truth_in_ci"] else "misses"} the planted
      truth.** The planted OR 0.70 is a conditional odds ratio on the logit scale; on the scale
      of a school's share it is the risk difference in the last column.
    - The naive before/after is biased by {sgn(naive_truth.no_programme_change)} in
      expectation: {sgn(naive_truth.transient)} from the change of the transient shock the
      schools were selected on (what is left of it by phase 1) and
      {sgn(naive_truth.trend_and_composition)} from the secular trend and grade mix.
    {_twfe_line}- {_pretrend} and the
      estimator's value without the programme is {sgn(_cs1["without the programme"])} at
      e = 1: staggered selection on transient highs is not fully differenced out. {_covered} of
      {sensitivity.height} specifications cover the truth at e = 1. Report the event-study
      pre-periods and the sensitivity table with the headline.
    """
    else:
        _text = f"""
    ## Conclusion

    Phase-2 effect (e = 1): {sgn(phase2["att"])} (95 % CI {sgn(phase2["ci_low"])} to
    {sgn(phase2["ci_high"])}). Read it together with the pre-trend test and the sensitivity
    table; the naive before/after contains regression to the mean.
    """
    mo.md(_text)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## The programme effect in Elevundersøkelsen (the national school panel)

    Spekter starts in phase 1, so a real LMP school has no Spekter round before the programme
    and comparison schools rarely run Spekter. Elevundersøkelsen is answered every autumn by
    7th and 10th grade at every school, years before any pulje started, and is public at school
    level. `lmp_analytics.evaluation.national_designs.national_evaluation` estimates the effect
    on that panel with three designs: staggered DiD against **eligible non-participants**
    (schools that met the same selection rule but did not join: both groups were selected on a
    high), against every never-treated school and against not-yet-treated schools, and the
    **naive** before/after minus the national change (the pilot evaluation's comparison, biased
    by regression to the mean). On a synthetic world the planted truth of each row is the
    estimator's own aggregation of the planted cell effects (`synth.country_panel.truth_of`).
    """)
    return


@app.cell
def _(StatsInputError, os, pl, reading):
    from lmp_analytics.config import warehouse_path
    from lmp_analytics.evaluation.national_designs import national_evaluation
    from lmp_analytics.evaluation.national_panel import lmp_treatment, school_panel
    from lmp_analytics.evaluation.national_view import has_school_results, selection_years_for
    from lmp_analytics.synth.country_panel import frames_from_truth, truth_of
    from lmp_analytics.synth.truth import find_truth as _find

    _path = warehouse_path(None)
    national, national_reason = None, None
    with reading(_path) as _con:
        _ids = _con.sql("SELECT skole_orgnr FROM dim_school").pl()["skole_orgnr"].to_list()
    if not has_school_results(_path):
        national_reason = ("no school-level Elevundersøkelsen results are loaded "
                           "(lmp ingest-national with the statistics bank's school file)")
    else:
        try:
            national = national_evaluation(_path, "mobbet",
                                           selection_years=selection_years_for(_path))
        except Exception as _exc:
            national_reason = f"{type(_exc).__name__}: {_exc}"
    national_table = None
    if national is not None:
        national_table = national.results
        _truth = _find(_ids, os.environ.get("LMP_TRUTH"))
        if _truth and "country" in _truth:
            _frames = frames_from_truth(_truth, school_panel(_path), lmp_treatment(_path))
            national_table = national_table.with_columns(pl.Series("truth", [
                truth_of(_frames, d, t) for d, t in
                national_table.select("design", "trinn").iter_rows()], dtype=pl.Float64))
    return national, national_reason, national_table


@app.cell
def _(mo, national_reason, national_table):
    mo.vstack([
        mo.md("**National panel: every design and grade** (shares as fractions; `truth` on a "
              "synthetic world)"),
        mo.ui.table(national_table.to_dicts()) if national_table is not None else
        mo.md(f"Not available: {national_reason}."),
    ])
    return


@app.cell
def _(alt, mo, national, pl):
    if national is not None and national.event_study.height:
        _es = national.event_study.filter(pl.col("trinn") == "pooled")
        _base = alt.Chart(_es).encode(
            x=alt.X("e:O", title="years since the first treated survey"),
            color=alt.Color("design:N", title="design"),
            xOffset="design:N")
        _chart = (_base.mark_rule().encode(y=alt.Y("ci_low:Q", title="effect on the share"),
                                           y2="ci_high:Q")
                  + _base.mark_point(filled=True).encode(y="att:Q")
                  ).properties(width=620, height=260,
                               title="Event study on Elevundersøkelsen, 7th and 10th pooled")
        _out = mo.vstack([_chart, mo.md(
            "Years before the start (e < 0) should lie around 0; the eligible design's "
            "pre-periods carry the selection on a high and its regression.")])
    else:
        _out = mo.md("No national-panel event study (see above).")
    _out
    return


if __name__ == "__main__":
    app.run()
