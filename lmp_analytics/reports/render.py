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
from lmp_analytics.presentation.strings import has, section, text
from lmp_analytics.reports import sentences
from lmp_analytics.reports.data import Cell, Change, SchoolReport
from lmp_analytics.reports.sentences import verdict as _verdict

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
    return text("report.grade_label", lang, k=k)


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
        term = text("report.term_asked", lang, term=term, asked=asked)
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
        "summary": sentences.summary(report),
        "questions": sentences.questions(report),
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
        "same_pupils": sentences.same_pupils(report),
        "unassessed": sentences.unassessed(report),
        "grade_labels": grade_labels,
        "grade_rows": grade_rows,
        "grades_shown": grades_shown,
        "rounds": _round_rows(report),
        # elevtall.csv is optional: say why a rate is missing (the cell stays empty, never 0)
        "no_enrolment": any(not r.suppressed and r.enrolled is None and r.formal != "mistanke"
                            for r in report.rounds),
        "reading": sentences.reading(report),
        "hidden": HIDDEN,
        "footer": f"{text('report.footer', lang)} · {report.skole} · {fmt.term(report.term, lang)}",
    }


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
