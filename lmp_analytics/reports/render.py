"""Turn a :class:`~lmp_analytics.reports.data.SchoolReport` into HTML, and the same HTML into PDF.

One Jinja2 template (``templates/school_report.html.j2``) with its print stylesheet makes both
formats, so every number is formatted once (:mod:`lmp_analytics.presentation.fmt`). WeasyPrint lays
out the PDF offline: the page has no external resource (charts are inline SVG data URIs) and the
URL fetcher refuses anything else. Output is deterministic: no clock is read; the PDF's creation
date is the date of the warehouse's last ingest (or ``SOURCE_DATE_EPOCH`` when set).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from functools import cache

import jinja2

from lmp_analytics.presentation import fmt, labels
from lmp_analytics.presentation.fmt import HIDDEN, Lang
from lmp_analytics.presentation.labels import power_caveat, rtm_caveat, verdict_label
from lmp_analytics.presentation.strings import has, section, text
from lmp_analytics.reports.data import Cell, Change, SchoolReport

FORMATS = ("pdf", "html")
TEST_MARKS = ("†", "‡", "§", "¶", "‖")  # footnote marks that cannot be read as exponents


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lmp_analytics.reports", "templates"),
        autoescape=jinja2.select_autoescape(("html", "j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["css_string"] = _css_string
    env.filters["term"] = lambda code, lang: fmt.term(code, lang)
    return env


def _css_string(value: str) -> str:
    """Text for a CSS string literal (quotes, backslashes and line breaks escaped)."""
    out = []
    for ch in str(value):
        if ch in "\"\\'<>&" or ord(ch) < 32:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return "".join(out)


# --------------------------------------------------------------------------------------------
# View model: every string the template prints


@dataclass(frozen=True)
class KeyRow:
    label: str
    kind: str
    value: str
    ci: str
    n: str
    change: str
    change_ci: str
    verdict: str
    test: str
    status: str  # shown | hidden | missing


@dataclass(frozen=True)
class PhaseRow:
    label: str
    before: str
    before_n: str
    after: str
    after_n: str
    change: str
    change_ci: str
    p: str
    test: str
    verdict: str
    hidden: bool


@dataclass(frozen=True)
class GradeRow:
    grade: str
    n: str
    values: tuple[tuple[str, str], ...]  # (value, ci) per grade indicator


def _verdict(change: Change | None, lang: Lang) -> str:
    if change is None or not change.shown:
        return ""
    if not change.tested or change.verdict is None:
        return text("report.not_tested", lang)
    return verdict_label(change.verdict, lang)


def _n_text(cell: Cell | None, lang: Lang) -> str:
    if cell is None:
        return ""
    if cell.suppressed:
        return cell.n_display or "*"
    return fmt.integer(cell.n, lang)


def _key_rows(report: SchoolReport) -> list[KeyRow]:
    lang = report.lang
    rows = []
    for ind in report.indicators:
        cell = report.latest.get(ind.id)
        ch = report.latest_change.get(ind.id)
        if cell is None:
            rows.append(KeyRow(ind.label(lang), ind.kind, text("report.not_measured", lang), "", "",
                               "", "", "", "", "missing"))
            continue
        if not cell.shown:
            rows.append(KeyRow(ind.label(lang), ind.kind, text("report.hidden", lang), "",
                               _n_text(cell, lang), "", "", "", "", "hidden"))
            continue
        shown = ch is not None and ch.shown
        rows.append(KeyRow(
            label=ind.label(lang), kind=ind.kind, value=fmt.value(cell.value, ind.kind, lang),
            ci=fmt.interval(cell.ci_low, cell.ci_high, lang, kind=ind.kind),
            n=_n_text(cell, lang),
            change=(fmt.change(ch.diff, ind.kind, lang) if shown
                    else (text("report.hidden", lang) if ch is not None else "")),
            change_ci=fmt.interval(ch.ci_low, ch.ci_high, lang, kind=ind.kind, change=True)
            if shown else "",
            verdict=_verdict(ch, lang),
            test=_test_mark(report, ch) if shown else "",
            status="shown",
        ))
    return rows


def _test_mark(report: SchoolReport, ch: Change | None) -> str:
    if ch is None or not ch.test or ch.test not in report.tests_used:
        return ""
    # a symbol after the number: a superscript digit would read as an exponent ("−0,10²")
    return TEST_MARKS[report.tests_used.index(ch.test) % len(TEST_MARKS)]


def _phase_rows(report: SchoolReport, changes: dict[str, Change]) -> list[PhaseRow]:
    lang = report.lang
    rows = []
    for ind in report.indicators:
        ch = changes.get(ind.id)
        if ch is None:
            continue
        if not ch.shown:
            hidden = text("report.hidden", lang)
            rows.append(PhaseRow(ind.label(lang), hidden, "", hidden,
                                 "", "", "", "", "", "", True))
            continue
        rows.append(PhaseRow(
            label=ind.label(lang),
            before=fmt.value(ch.pre_value, ind.kind, lang), before_n=fmt.integer(ch.pre_n, lang),
            after=fmt.value(ch.post_value, ind.kind, lang), after_n=fmt.integer(ch.post_n, lang),
            change=fmt.change(ch.diff, ind.kind, lang),
            change_ci=fmt.interval(ch.ci_low, ch.ci_high, lang, kind=ind.kind, change=True),
            p=fmt.p_value(ch.p_value, lang), test=_test_mark(report, ch),
            verdict=_verdict(ch, lang), hidden=False,
        ))
    return rows


GRADE_INDICATORS = ("mobbet", "trivsel_skala")


def _grade_rows(report: SchoolReport) -> tuple[list[str], list[GradeRow], bool]:
    lang = report.lang
    inds = [report.indicator_map[i] for i in GRADE_INDICATORS if i in report.indicator_map]
    rows, any_shown = [], False
    for g in report.grades:
        values = []
        first = report.grade_cells.get((inds[0].id, g)) if inds else None
        for ind in inds:
            cell = report.grade_cells.get((ind.id, g))
            if cell is None:
                values.append((text("report.not_measured", lang), ""))
            elif not cell.shown:
                values.append((text("report.hidden", lang), ""))
            else:
                any_shown = True
                values.append((fmt.value(cell.value, ind.kind, lang),
                               fmt.interval(cell.ci_low, cell.ci_high, lang, kind=ind.kind)))
        rows.append(GradeRow(_grade_label(g, lang), _n_text(first, lang), tuple(values)))
    return [i.label(lang) for i in inds], rows, any_shown


def _grade_label(g: str, lang: Lang) -> str:
    try:
        k = int(g)
    except ValueError:
        return g
    if k > 10:
        return f"Vg{k - 10}"
    return f"{k}." if lang != "en" else str(k)


def _date(day: dt.date, lang: Lang) -> str:
    return day.strftime("%d.%m.%Y") if lang != "en" else day.isoformat()


def _round_rows(report: SchoolReport) -> list[dict]:
    lang = report.lang
    out = []
    for r in report.rounds:
        rate = ""
        if r.suppressed:
            rate = ""
        elif r.response_rate is not None:
            rate = fmt.percent(r.response_rate, lang, 0) + (" ⚠" if r.low_rate else "")
        out.append({
            "term": r.term, "date": _date(r.date, lang),
            "versjon": labels.version_name(r.versjon, lang),
            "formal": r.formal or "", "modules": ", ".join(r.modules),
            "respondents": (r.respondents_display or "*") if r.suppressed
            else fmt.integer(r.respondents, lang),
            "enrolled": "" if r.suppressed else fmt.integer(r.enrolled, lang),
            "rate": rate, "primary": r.is_primary, "low": r.low_rate and not r.suppressed,
        })
    return out


# --------------------------------------------------------------------------------------------
# Sentences


def _summary(report: SchoolReport) -> list[str]:
    lang = report.lang
    ind = report.headline
    cell = report.latest.get(ind.id)
    out = []
    nb = lang != "en"  # nn uses these bokmål sentences until they move to the strings files
    now = fmt.term(report.term, lang)
    if cell is None:
        out.append(f"Mobbing ble ikke målt i {now}." if nb
                   else f"Bullying was not measured in {now}.")
    elif not cell.shown:
        # one text for every hidden cell: which hidden cells are small is not told
        if nb:
            out.append(f"Tallet for mobbing i {now} vises ikke for å verne elevene: "
                       f"færre enn {report.min_n} elever svarte, eller tallet er skjult for at "
                       "andre skjulte tall ikke skal kunne regnes ut.")
        else:
            out.append(f"The bullying figure for {now} is not shown to protect the "
                       f"pupils: fewer than {report.min_n} pupils answered, or it is hidden so "
                       "that other hidden numbers cannot be worked out.")
    else:
        pct = fmt.percent(cell.value, lang)
        ci = fmt.interval(cell.ci_low, cell.ci_high, lang)
        n = fmt.integer(cell.n, lang)
        out.append(
            f"I {now} svarte {n} elever på spørsmålet om mobbing. {pct} (95 % KI {ci}) "
            "sa at de ble mobbet 2–3 ganger i måneden eller oftere." if nb else
            f"In {now}, {n} pupils answered the bullying question. {pct} (95% CI {ci}) "
            "said they were bullied 2–3 times a month or more.")
    ch = report.latest_change.get(ind.id)
    if ch is not None:
        pre, post = fmt.term(ch.pre_term, lang), fmt.term(ch.post_term, lang)
        if ch.shown:
            out.append(
                f"Fra {pre} til {post} endret andelen seg med "
                f"{fmt.points(ch.diff, lang)} (95 % KI {fmt.interval(ch.ci_low, ch.ci_high, lang, change=True)}): "  # noqa: E501
                f"{_verdict(ch, lang)}." if nb else
                f"From {pre} to {post} the share changed by "
                f"{fmt.points(ch.diff, lang)} (95% CI {fmt.interval(ch.ci_low, ch.ci_high, lang, change=True)}): "  # noqa: E501
                f"{_verdict(ch, lang)}.")
        else:
            out.append(f"Endringen fra {pre} kan ikke vises fordi et av tallene er skjult."
                       if nb else
                       f"The change since {pre} cannot be shown because one of the "
                       "numbers is hidden.")
    pc = report.phase_changes.get(ind.id)
    if pc is not None and pc.shown:
        span = f"{fmt.term(pc.pre_term, lang)} → {fmt.term(pc.post_term, lang)}"
        out.append(
            f"Før og etter fase {report.finished_phase} ({span}): "
            f"{fmt.points(pc.diff, lang)}, {_verdict(pc, lang)}." if nb else
            f"Before and after phase {report.finished_phase} ({span}): "
            f"{fmt.points(pc.diff, lang)}, {_verdict(pc, lang)}.")
    whole = report.programme_changes.get(ind.id)
    if whole is not None and whole.shown:
        span = f"{fmt.term(whole.pre_term, lang)} → {fmt.term(whole.post_term, lang)}"
        ci = fmt.interval(whole.ci_low, whole.ci_high, lang, change=True)
        out.append(text("report.whole_period", lang, span=span,
                        diff=fmt.points(whole.diff, lang), ci=ci,
                        verdict=_verdict(whole, lang)))
        if report.rolle == "deltaker":
            out.append(rtm_caveat(lang))
    return out


def _questions(report: SchoolReport) -> list[str]:
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


def _reading(report: SchoolReport) -> list[str]:
    lang = report.lang
    nb = lang != "en"  # nn uses these bokmål sentences until they move to the strings files
    out = [
        "Et 95 % konfidensintervall (KI) viser hvor det sanne tallet for skolen trolig ligger, "
        "gitt hvor mange som svarte. Overlapper intervallet for en endring 0, kan endringen "
        "skyldes tilfeldigheter: hvilke elever som svarte, og hvordan dagen var." if nb else
        "A 95% confidence interval (CI) shows where the school's true figure probably lies, "
        "given how many pupils answered. If the interval for a change includes 0, the change may "
        "be chance: which pupils answered, and what the day was like.",
    ]
    cell = report.latest.get(report.headline.id)
    if cell is not None and cell.shown and cell.n:
        one = fmt.number(100 / cell.n, lang, 1)
        out.append(
            f"Med {fmt.integer(cell.n, lang)} svar utgjør én elev omtrent {one} prosentpoeng. "
            "Små skoler og trinn svinger derfor mye fra runde til runde." if nb else
            f"With {fmt.integer(cell.n, lang)} answers, one pupil is about {one} percentage "
            "points. Small schools and grades therefore vary a lot from round to round.")
    out.append(power_caveat(lang))
    if report.rolle == "deltaker":
        out.append(rtm_caveat(lang))
    out.append(
        "Tallene sier ikke noe om enkeltelever eller enkeltklasser, og de kan ikke alene vise at "
        "en endring skyldes LMP: andre ting skjer også på skolen. Spekter og Elevundersøkelsen "
        "stiller ulike spørsmål på ulike tidspunkt, så tallene kan ikke sammenlignes direkte."
        if nb else
        "The numbers say nothing about single pupils or classes, and they cannot on their own "
        "show that a change is due to LMP: other things happen at the school too. Spekter and "
        "the national Pupil Survey ask different questions at different times, so their numbers "
        "cannot be compared directly.")
    out.append(text("report.hidden_note", lang, hidden=text("report.hidden", lang),
                    min_n=report.min_n))
    return out


def _meta(report: SchoolReport) -> list[tuple[str, str]]:
    lang = report.lang
    role = (text(f"report.{report.rolle}", lang)
            if report.rolle in ("deltaker", "sammenligning") else report.rolle)
    if report.pulje is not None:
        role += f", {text('report.pulje', lang)} {report.pulje}"
    if report.oppstart:
        role += f" ({text('report.start', lang)} {report.oppstart})"
    term = fmt.term(report.term, lang)
    if report.requested_term and report.requested_term != report.term:
        asked = fmt.term(report.requested_term, lang)
        term += (f" (siste runde før eller i {asked})" if lang != "en"
                 else f" (latest round in or before {asked})")
    if report.phase_in_term is not None:
        term += f" · {text('report.phase_now', lang)} {report.phase_in_term}"
    rows = [
        (text("report.orgnr", lang), report.orgnr),
        (text("report.kommune", lang), f"{report.kommune} ({report.kommunenummer})"),
        (text("report.rolle", lang), role),
        (text("report.term", lang), term),
    ]
    if report.data_as_of:
        rows.append((text("report.data_as_of", lang), report.data_as_of))
    rows.append((text("report.report_role", lang), _role_words(report.role, lang)))
    return rows


def _role_words(role: str, lang: Lang) -> str:
    """The role the report was made for, in words (``veileder:974590123,...`` → ``veileder
    for 2 skoler``), never the raw role string."""
    kind, _, rest = str(role).partition(":")
    codes = [c for c in rest.split(",") if c]
    key = f"report.role_{kind}"
    if not has(key):
        return kind
    return text(key, lang, n=len(codes), codes=", ".join(codes))


def view_model(report: SchoolReport, charts: dict[str, str | None]) -> dict:
    """Every string of the page, from the report and its rendered charts."""
    lang = report.lang
    prev = report.latest_change.get(report.headline.id)
    grade_labels, grade_rows, grades_shown = _grade_rows(report)
    phase_terms = None
    pc = report.phase_changes.get(report.headline.id) or next(
        iter(report.phase_changes.values()), None)
    if pc is not None:
        phase_terms = (pc.pre_term, pc.post_term)
    prog = report.programme_changes.get(report.headline.id) or next(
        iter(report.programme_changes.values()), None)
    return {
        "lang": lang,
        "t": {k: v for k, v in section("report", lang).items() if "{" not in v},
        "grade_note": text("report.grade_note", lang, min_n=report.min_n),
        "r": report,
        "meta": _meta(report),
        "summary": _summary(report),
        "questions": _questions(report),
        "key_rows": _key_rows(report),
        "prev_term": prev.pre_term if prev is not None else None,
        "tests": [(TEST_MARKS[i % len(TEST_MARKS)], labels.test_name(t, lang))
                  for i, t in enumerate(report.tests_used)],
        "charts": charts,
        "headline_label": report.headline.label(lang),
        "phase": report.finished_phase,
        "phase_terms": phase_terms,
        "phase_rows": _phase_rows(report, report.phase_changes),
        "programme_terms": (prog.pre_term, prog.post_term) if prog is not None else None,
        "programme_rows": _phase_rows(report, report.programme_changes),
        "same_pupils": _same_pupils(report),
        "unassessed": _unassessed(report),
        "grade_labels": grade_labels,
        "grade_rows": grade_rows,
        "grades_shown": grades_shown,
        "rounds": _round_rows(report),
        # elevtall.csv is optional: say why a rate is missing (the cell stays empty, never 0)
        "no_enrolment": any(not r.suppressed and r.enrolled is None and r.formal != "mistanke"
                            for r in report.rounds),
        "reading": _reading(report),
        "hidden": HIDDEN,
        "footer": f"{text('report.footer', lang)} · {report.skole} · {fmt.term(report.term, lang)}",
    }


def _unassessed(report: SchoolReport) -> str | None:
    """Finished phases that lack a round before or after them."""
    later = [k for k in report.phases_without_after
             if report.finished_phase is None or k > int(report.finished_phase)]
    if not later:
        return None
    terms = {p.fase: p.termin for p in report.phases}
    names = ", ".join(f"{k} ({fmt.term(terms[k], report.lang)})" for k in later)
    if report.lang != "en":
        return (f"Fase {names} kan ikke vurderes før og etter: skolen mangler en runde før eller "
                "etter fasen.")
    return (f"Phase {names} cannot be assessed before and after: the school lacks a round "
            "before or after it.")


def _same_pupils(report: SchoolReport) -> str | None:
    ch = report.phase_changes.get(report.headline.id)
    if ch is None or not ch.shown or ch.linked_diff is None:
        return None
    lang = report.lang
    ci = fmt.interval(ch.linked_ci_low, ch.linked_ci_high, lang, change=True)
    n = fmt.integer(ch.linked_n, lang)
    if lang != "en":
        return (f"Bare elevene som svarte begge gangene (n = {n}): "
                f"{fmt.points(ch.linked_diff, lang)} (95 % KI {ci}).")
    return (f"Only pupils who answered both times (n = {n}): "
            f"{fmt.points(ch.linked_diff, lang)} (95% CI {ci}).")


# --------------------------------------------------------------------------------------------
# Output


def _created(report: SchoolReport) -> str | None:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{report.data_as_of}T00:00:00Z" if report.data_as_of else None


def render_html(report: SchoolReport, *, charts: dict[str, str | None] | None = None) -> str:
    """The report as one self-contained HTML page (inline CSS and charts)."""
    from lmp_analytics.reports.charts import chart_images

    images = chart_images(report) if charts is None else charts
    page = view_model(report, images)
    page["created"] = _created(report)
    return _environment().get_template("school_report.html.j2").render(**page)


def html_to_pdf(html: str) -> bytes:
    """Lay out report HTML as PDF with WeasyPrint, offline: only ``data:`` URLs are fetched."""
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=_data_only_fetcher()).write_pdf()


def _data_only_fetcher():
    try:  # WeasyPrint >= 68: a fetcher class with a protocol allow-list
        from weasyprint.urls import URLFetcher

        return URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    except ImportError:  # pragma: no cover - older WeasyPrint: a fetcher function
        from weasyprint.urls import default_url_fetcher

        def fetch(url: str, *args, **kwargs):
            if not url.startswith("data:"):
                raise ValueError(f"report pages load no external resource ({url[:60]!r})")
            return default_url_fetcher(url, *args, **kwargs)

        return fetch


def render(report: SchoolReport, fmt_: str = "pdf") -> bytes:
    """The report as PDF or HTML (UTF-8) bytes."""
    if fmt_ not in FORMATS:
        raise ValueError(f"format must be pdf or html, got {fmt_!r}")
    html = render_html(report)
    return html_to_pdf(html) if fmt_ == "pdf" else html.encode("utf-8")


__all__ = ["FORMATS", "html_to_pdf", "render", "render_html", "view_model"]
