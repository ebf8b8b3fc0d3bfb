"""The school report's sentences: "Kort fortalt", "Spørsmål til samtalen", the notes under the
tables and "Hva tallene kan og ikke kan si". Each sentence is a template of the language files
(``report.*`` in :mod:`lmp_analytics.presentation.strings`) filled with numbers formatted by
:mod:`lmp_analytics.presentation.fmt`; which template is chosen follows from the numbers only."""

from __future__ import annotations

from lmp_analytics.presentation import fmt
from lmp_analytics.presentation.fmt import Lang
from lmp_analytics.presentation.labels import power_caveat, rtm_caveat, verdict_label
from lmp_analytics.presentation.strings import text
from lmp_analytics.reports.data import Change, SchoolReport

__all__ = ["questions", "reading", "same_pupils", "summary", "unassessed", "verdict"]


def verdict(change: Change | None, lang: Lang) -> str:
    """A change's verdict in words ('' when the change is not shown, 'ikke testet' untested)."""
    if change is None or not change.shown:
        return ""
    if not change.tested or change.verdict is None:
        return text("report.not_tested", lang)
    return verdict_label(change.verdict, lang)


def _span(pre_term: str, post_term: str, lang: Lang) -> str:
    return f"{fmt.term(pre_term, lang)} → {fmt.term(post_term, lang)}"


def summary(report: SchoolReport) -> list[str]:
    """'Kort fortalt': the headline now, its latest change, the phase just finished and the
    whole period (with the regression-to-the-mean caution for a participating school)."""
    lang = report.lang
    ind = report.headline
    cell = report.latest.get(ind.id)
    out = []
    now = fmt.term(report.term, lang)
    if cell is None:
        out.append(text("report.sum_not_measured", lang, now=now))
    elif not cell.shown:
        # one text for every hidden cell: which hidden cells are small is not told
        out.append(text("report.sum_hidden", lang, now=now, min_n=report.min_n))
    else:
        out.append(text("report.sum_headline", lang, now=now, n=fmt.integer(cell.n, lang),
                        pct=fmt.percent(cell.value, lang),
                        ci=fmt.interval(cell.ci_low, cell.ci_high, lang)))
    ch = report.latest_change.get(ind.id)
    if ch is not None:
        pre, post = fmt.term(ch.pre_term, lang), fmt.term(ch.post_term, lang)
        if ch.shown:
            out.append(text("report.sum_change", lang, pre=pre, post=post,
                            diff=fmt.points(ch.diff, lang),
                            ci=fmt.interval(ch.ci_low, ch.ci_high, lang, change=True),
                            verdict=verdict(ch, lang)))
        else:
            out.append(text("report.sum_change_hidden", lang, pre=pre))
    pc = report.phase_changes.get(ind.id)
    if pc is not None and pc.shown:
        out.append(text("report.sum_phase", lang, phase=report.finished_phase,
                        span=_span(pc.pre_term, pc.post_term, lang),
                        diff=fmt.points(pc.diff, lang), verdict=verdict(pc, lang)))
    whole = report.programme_changes.get(ind.id)
    if whole is not None and whole.shown:
        out.append(text("report.whole_period", lang,
                        span=_span(whole.pre_term, whole.post_term, lang),
                        diff=fmt.points(whole.diff, lang),
                        ci=fmt.interval(whole.ci_low, whole.ci_high, lang, change=True),
                        verdict=verdict(whole, lang)))
        if report.rolle == "deltaker":
            out.append(rtm_caveat(lang))
    return out


def questions(report: SchoolReport) -> list[str]:
    """'Spørsmål til samtalen': a few questions for the supervisor's meeting, each from a
    fixed template chosen by the numbers (the latest change, response rates, hidden cells)."""
    lang = report.lang
    out = []
    ch = report.latest_change.get(report.headline.id)
    if ch is not None and ch.shown and ch.tested and ch.verdict is not None:
        key = {"tydelig økning": "q_up", "tydelig nedgang": "q_down"}.get(
            ch.verdict, "q_flat")
        out.append(text(f"report.{key}", lang, pre=fmt.term(ch.pre_term, lang),
                        post=fmt.term(ch.post_term, lang), diff=fmt.points(ch.diff, lang)))
    low = [r.term for r in report.rounds if r.low_rate and not r.suppressed]
    if low:
        out.append(text("report.q_low_rate", lang, term=fmt.term(low[-1], lang)))
    if any(c is not None and not c.shown for c in report.latest.values()):
        out.append(text("report.q_hidden", lang))
    return out


def reading(report: SchoolReport) -> list[str]:
    """'Hva tallene kan og ikke kan si': intervals, the weight of one pupil, power, regression
    to the mean (participating schools), what the numbers cannot show, the hidden mark."""
    lang = report.lang
    out = [text("report.read_ci", lang)]
    cell = report.latest.get(report.headline.id)
    if cell is not None and cell.shown and cell.n:
        out.append(text("report.read_one_pupil", lang, n=fmt.integer(cell.n, lang),
                        one=fmt.number(100 / cell.n, lang, 1)))
    out.append(power_caveat(lang))
    if report.rolle == "deltaker":
        out.append(rtm_caveat(lang))
    out.append(text("report.read_limits", lang))
    out.append(text("report.hidden_note", lang, hidden=text("report.hidden", lang),
                    min_n=report.min_n))
    return out


def unassessed(report: SchoolReport) -> str | None:
    """Finished phases that lack a round before or after them."""
    later = [k for k in report.phases_without_after
             if report.finished_phase is None or k > int(report.finished_phase)]
    if not later:
        return None
    terms = {p.fase: p.termin for p in report.phases}
    names = ", ".join(f"{k} ({fmt.term(terms[k], report.lang)})" for k in later)
    return text("report.unassessed", report.lang, names=names)


def same_pupils(report: SchoolReport) -> str | None:
    """The phase change of the headline for the pupils who answered both times, if shown."""
    ch = report.phase_changes.get(report.headline.id)
    if ch is None or not ch.shown or ch.linked_diff is None:
        return None
    lang = report.lang
    return text("report.same_pupils_line", lang, n=fmt.integer(ch.linked_n, lang),
                diff=fmt.points(ch.linked_diff, lang),
                ci=fmt.interval(ch.linked_ci_low, ch.linked_ci_high, lang, change=True))
