"""The municipality's chapter as a list of blocks (headings, paragraphs, tables, figures).

Every number is read through :mod:`lmp_analytics.api` and :mod:`lmp_analytics.readmodels` for the
caller's role (suppressed, cut to the role's scope) and turned into text by
:mod:`lmp_analytics.presentation.fmt`; nothing here computes a statistic. The DOCX, HTML,
Markdown and PDF writers only lay these blocks out, so every format carries the same text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

from lmp_analytics import api
from lmp_analytics.errors import UsageError, keyed
from lmp_analytics.ingest import reasons
from lmp_analytics.presentation import fmt
from lmp_analytics.presentation.strings import check_lang, text
from lmp_analytics.privacy.roles import Role
from lmp_analytics.readmodels import catalogue, comparison, quality
from lmp_analytics.terms import shift_term, term_index, term_order

HEADLINE = "mobbet"


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Figure:
    caption: str
    alt: str
    spec: dict = field(hash=False, compare=False)


Block = Heading | Para | Table | Figure


@dataclass(frozen=True)
class Chapter:
    """The chapter: its blocks plus what the writers need (language, date, title)."""

    kommune: str
    kommune_name: str
    skoleaar: str
    lang: str
    role: str
    min_n: int
    data_as_of: str | None
    title: str
    blocks: tuple[Block, ...]


def school_year_terms(skoleaar: str) -> tuple[str, str]:
    """'2025-26' -> ('2025H', '2026V'); UsageError for anything else."""
    m = re.fullmatch(r"(\d{4})-(\d{2})", skoleaar.strip())
    if not m or (int(m[1]) + 1) % 100 != int(m[2]):
        raise UsageError(f"--skoleaar {skoleaar!r} is not a school year; use e.g. 2025-26")
    return f"{m[1]}H", f"{int(m[1]) + 1}V"


def _t(key: str, lang: str, **kw) -> str:
    return text(f"tilstand.{key}", lang, **kw)


def _hidden(lang: str) -> str:
    return text("report.hidden", lang)


def _term(term: str | None, lang: str) -> str:
    if not term or len(term) != 5:
        return term or ""
    season = text("dashboard.autumn" if term[4] == "H" else "dashboard.spring", lang)
    return f"{season} {term[:4]}"


def _cell(row: dict | None, kind: str, lang: str) -> str:
    """A published cell as 'value (low–high)', 'skjult' when suppressed, '' when missing."""
    if row is None:
        return ""
    if row.get("suppressed"):
        return _hidden(lang)
    if kind == "share":
        return fmt.value_ci(row.get("share"), row.get("ci_low"), row.get("ci_high"), kind, lang)
    return fmt.value_ci(row.get("mean"), row.get("mean_ci_low"), row.get("mean_ci_high"), kind,
                        lang)


def _n(row: dict | None, lang: str) -> str:
    if row is None:
        return ""
    if row.get("suppressed"):
        return row.get("n_display") or _hidden(lang)
    return fmt.integer(row.get("n"), lang)


def _change(row: dict | None, kind: str, lang: str) -> str:
    if row is None:
        return ""
    if row.get("suppressed"):
        return _hidden(lang)
    diff = row.get("diff_pp") if kind == "share" else row.get("diff_mean")
    if diff is None:
        return ""
    ci = fmt.interval(row.get("diff_ci_low"), row.get("diff_ci_high"), lang, kind=kind,
                      change=True)
    return f"{fmt.change(diff, kind, lang)} ({ci})" if ci else fmt.change(diff, kind, lang)


def _start(row: dict | None, kind: str, lang: str) -> str:
    """The round before phase 1: its term and value."""
    if row is None or not row.get("pre_term"):
        return ""
    if row.get("suppressed"):
        return f"{_term(row['pre_term'], lang)}: {_hidden(lang)}"
    return f"{_term(row['pre_term'], lang)}: {fmt.value(row.get('pre_value'), kind, lang)}"


def _index(frame: pl.DataFrame, keys: tuple[str, ...]) -> dict[tuple, dict]:
    return {tuple(r[k] for k in keys): r for r in frame.iter_rows(named=True)}


def _indicator_section(ind_id: str, kind: str, label: str, cells_s: pl.DataFrame,
                       cells_k: pl.DataFrame, start: pl.DataFrame, programme: pl.DataFrame,
                       school_rows: list[dict], kommune: str, kommune_name: str,
                       year_terms: tuple[str, str], lang: str) -> list[Block]:
    s_ix = _index(cells_s.filter(pl.col("indicator") == ind_id), ("skole_orgnr", "term"))
    k_ix = _index(cells_k.filter(pl.col("indicator") == ind_id), ("rolle", "term"))
    st_ix = _index(start.filter(pl.col("indicator") == ind_id), ("skole_orgnr",))
    pr_ix = _index(programme.filter(pl.col("indicator") == ind_id), ("skole_orgnr",))
    rows: list[tuple[str, ...]] = []
    for school in school_rows:
        org = school["skole_orgnr"]
        for term in year_terms:
            cell = s_ix.get((org, term))
            if cell is None:
                continue
            before = s_ix.get((org, shift_term(term, -2)))
            rows.append((school["skole"], _term(term, lang), _cell(cell, kind, lang),
                         _n(cell, lang), _cell(before, kind, lang),
                         _start(st_ix.get((org,)), kind, lang),
                         _change(pr_ix.get((org,)), kind, lang)))
    names = {"alle": "kommune_all", "deltaker": "kommune_part",
             "sammenligning": "kommune_comp"}
    for rolle in sorted({r for r, _ in k_ix}, key=lambda r: list(names).index(r)
                        if r in names else 9):
        for term in year_terms:
            cell = k_ix.get((rolle, term))
            if cell is None:
                continue
            before = k_ix.get((rolle, shift_term(term, -2)))
            unit = _t(names.get(rolle, "kommune_all"), lang, kommune=kommune_name)
            rows.append((unit, _term(term, lang), _cell(cell, kind, lang), _n(cell, lang),
                         _cell(before, kind, lang), "", ""))
    header = tuple(_t(k, lang) for k in ("unit", "term", "value", "n", "year_before",
                                         "at_start", "programme_change"))
    out: list[Block] = [Heading(label, 2)]
    out.append(Table(header, tuple(rows)) if rows else Para(_t("no_cells", lang)))
    return out


def _spekter_figure(cells_k: pl.DataFrame, kommune_name: str, lang: str) -> Figure | None:
    data = [
        {"term": _term(r["term"], lang), "order": term_index(r["term"]),
         "series": _t({"deltaker": "kommune_part", "sammenligning": "kommune_comp"}.get(
             r["rolle"], "kommune_all"), lang, kommune=kommune_name),
         "value": r["share"], "low": r["ci_low"], "high": r["ci_high"]}
        for r in cells_k.filter((pl.col("indicator") == HEADLINE)
                                & ~pl.col("suppressed")).iter_rows(named=True)
    ]
    if not data:
        return None
    x = {"field": "term", "type": "ordinal", "sort": {"field": "order"}, "title": None}
    color = {"field": "series", "type": "nominal", "title": None,
             "legend": {"orient": "bottom"}}
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": 460, "height": 200, "data": {"values": data},
        "layer": [
            {"mark": {"type": "rule"}, "encoding": {
                "x": x, "y": {"field": "low", "type": "quantitative"}, "y2": {"field": "high"},
                "color": color}},
            {"mark": {"type": "point", "filled": True}, "encoding": {
                "x": x, "color": color,
                "y": {"field": "value", "type": "quantitative",
                      "axis": {"format": ".0%"}, "title": text("dashboard.axis_share", lang)}}},
        ],
        "config": {"font": "DejaVu Sans", "view": {"stroke": None}},
    }
    return Figure(_t("figure_spekter", lang, kommune=kommune_name),
                  _t("figure_spekter_alt", lang, kommune=kommune_name), spec)


def _eu_section(role: Role, warehouse, kommune: str, kommune_name: str, lang: str
                ) -> list[Block]:
    out: list[Block] = [Heading(_t("sec_eu", lang), 1), Para(_t("eu_text", lang))]
    eu = comparison.national_series(role=role, warehouse=warehouse,
                               levels=("nasjon", "fylke", "kommune"))
    eu = eu.filter(pl.col("trinn").is_in([7, 10]) & (
        (pl.col("level") == "nasjon") | (pl.col("level") == "fylke")
        | ((pl.col("level") == "kommune") & (pl.col("kommunenummer") == kommune))))
    mine = eu.filter(pl.col("level") == "kommune")
    if mine.height == 0:
        out.append(Para(_t("eu_none", lang)))
        return out
    years = sorted(mine["term"].unique().to_list(), key=term_index)[-5:]
    eu = eu.filter(pl.col("term").is_in(years))
    # fylke rows: the county of the municipality, when loaded (fylke units carry no kommune)
    has_fylke = eu.filter(pl.col("level") == "fylke").height > 0
    ix = {}
    for r in eu.iter_rows(named=True):
        if r["level"] == "fylke" and not str(r.get("unit_name") or ""):
            continue
        ix.setdefault((r["level"], r["term"], r["trinn"], r["indicator"]), r)

    def val(r: dict | None) -> str:
        if r is None:
            return ""
        if r["suppressed"] or r["value"] is None:
            return _hidden(lang)
        if r["value_type"] == "pct":
            return fmt.percent(r["value"] / 100, lang)
        return fmt.mean(r["value"], lang)

    rows = []
    for ind in sorted(mine["indicator"].unique().to_list()):
        for term in years:
            for trinn in (7, 10):
                k = ix.get(("kommune", term, trinn, ind))
                if k is None:
                    continue
                rows.append((ind, k["school_year"], f"{trinn}.", val(k),
                             val(ix.get(("fylke", term, trinn, ind))),
                             val(ix.get(("nasjon", term, trinn, ind))), k["series_version"]))
    header = tuple(_t(k, lang) for k in ("indicator", "year", "grade", "kommune", "fylke",
                                         "nation", "series"))
    out.append(Table(header, tuple(rows)))
    versions = sorted(mine["series_version"].drop_nulls().unique().to_list())
    if len(versions) > 1:
        out.append(Para(_t("eu_break", lang, versions=" / ".join(versions))))
    if not has_fylke:
        out.append(Para(_t("eu_no_fylke", lang)))
    headline = sorted(mine["indicator"].unique().to_list())[0]
    data = [{"year": r["school_year"], "series": f"{name} {r['trinn']}.",
             "value": r["value"]}
            for r in eu.filter((pl.col("indicator") == headline) & ~pl.col("suppressed")
                               & pl.col("level").is_in(["kommune", "nasjon"])
                               ).iter_rows(named=True)
            for name in [kommune_name if r["level"] == "kommune" else _t("nation", lang)]]
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": 460, "height": 200, "data": {"values": data},
        "mark": {"type": "line", "point": True},
        "encoding": {"x": {"field": "year", "type": "ordinal", "title": None},
                     "y": {"field": "value", "type": "quantitative", "title": headline},
                     "color": {"field": "series", "type": "nominal", "title": None,
                               "legend": {"orient": "bottom"}}},
        "config": {"font": "DejaVu Sans", "view": {"stroke": None}},
    }
    out.append(Figure(
        _t("figure_eu", lang, indicator=headline, kommune=kommune_name),
        _t("figure_eu_alt", lang, indicator=headline, kommune=kommune_name,
           first=mine.filter(pl.col("term") == years[0])["school_year"][0],
           last=mine.filter(pl.col("term") == years[-1])["school_year"][0]), spec))
    out.append(Para(_t("eu_cannot", lang)))
    return out


def _lmp_section(role: Role, warehouse, kommune: str, year_terms: tuple[str, str],
                 lang: str) -> list[Block]:
    out: list[Block] = [Heading(_t("sec_lmp", lang), 1), Para(_t("lmp_text", lang))]
    cal = catalogue.phase_calendar(role=role, warehouse=warehouse).filter(
        (pl.col("kommunenummer") == kommune) & pl.col("termin").is_in(list(year_terms)))
    if cal.height:
        cal = cal.sort("skole", term_order("termin"))
        out.append(Table((_t("phase_school", lang), _t("phase_term", lang), _t("phase", lang)),
                         tuple((r["skole"], _term(r["termin"], lang), str(r["fase"]))
                               for r in cal.iter_rows(named=True))))
    else:
        out.append(Para(_t("no_phases", lang)))
    es = comparison.event_study(indicator=HEADLINE, role=role, warehouse=warehouse)
    att = es.summary.filter(pl.col("estimate") == "att")
    if att.height and att["value"][0] is not None:
        r = att.row(0, named=True)
        out.append(Para(_t("estimate_text", lang, value=fmt.points(r["value"], lang),
                           ci=fmt.interval(r["ci_low"], r["ci_high"], lang, change=True))))
    else:
        out.append(Para(_t("estimate_none", lang)))
    out.append(Para(_t("rtm_plain", lang)))
    return out


def _quality_section(role: Role, warehouse, kommune: str, year_terms: tuple[str, str],
                     lang: str) -> list[Block]:
    out: list[Block] = [Heading(_t("sec_quality", lang), 1), Para(_t("quality_text", lang))]
    rates = quality.response_rates(role=role, warehouse=warehouse).filter(
        (pl.col("kommunenummer") == kommune) & pl.col("term").is_in(list(year_terms)))
    out.append(Para(_t("rounds_run", lang, n=fmt.integer(rates.height, lang))))
    if rates.height:
        rows = []
        for r in rates.sort("skole", term_order("term"), "runde").iter_rows(named=True):
            hidden = bool(r["suppressed"])
            rows.append((r["skole"], _term(r["term"], lang),
                         (r["n_display"] or _hidden(lang)) if hidden
                         else fmt.integer(r["n"], lang),
                         "" if r["enrolled"] is None else fmt.integer(r["enrolled"], lang),
                         _hidden(lang) if hidden and r["response_rate"] is None
                         and r["enrolled"] is not None
                         else fmt.percent(r["response_rate"], lang)))
        out.append(Table(tuple(_t(k, lang) for k in ("school", "term", "respondents",
                                                     "enrolled", "rate")), tuple(rows)))
    q = quality.quarantine_summary(role=role, warehouse=warehouse).filter(
        (pl.col("level") == "kommune") & (pl.col("kommunenummer") == kommune))
    q = q.filter(pl.col("suppressed") | (pl.col("count") > 0))
    out.append(Heading(_t("quarantine", lang), 2))
    if q.height:
        out.append(Table((_t("reason", lang), _t("rows", lang)), tuple(
            (reasons.label(r["reason_code"], lang),
             _hidden(lang) if r["suppressed"] else fmt.integer(r["count"], lang))
            for r in q.iter_rows(named=True))))
    else:
        out.append(Para(_t("quarantine_none", lang)))
    out.append(Para(_t("quality_cannot", lang)))
    return out


def chapter(kommune: str, skoleaar: str, *, lang: str = "nb",
            role: str | Role | None = "program", warehouse=None) -> Chapter:
    """The chapter for ``kommune`` and ``skoleaar`` ('2025-26') as ``role`` may see it.

    PermissionError when the role does not include the municipality; UsageError for a
    malformed school year or a municipality without schools in the warehouse."""
    lang = check_lang(lang)
    r = api.as_role(role)
    if not r.includes_kommune(kommune):
        raise keyed(PermissionError(f"role {r} does not include kommune {kommune}"),
                    "role_not_kommune", role=r, kommune=kommune)
    year_terms = school_year_terms(skoleaar)
    schools = catalogue.schools(role=r, warehouse=warehouse).filter(
        pl.col("kommunenummer") == kommune)
    if schools.height == 0:
        raise UsageError(f"kommune {kommune} has no schools in the warehouse")
    kommune_name = schools["kommune"][0] or kommune
    school_rows = list(schools.iter_rows(named=True))
    orgnrs = [s["skole_orgnr"] for s in school_rows]
    indicators = catalogue.indicator_catalogue()
    wanted = [HEADLINE] + [i for i, info in indicators.items() if info.kind == "scale"]
    cells_s = api.indicators("skole", indicator=wanted, role=r, warehouse=warehouse,
                             schools=orgnrs)
    cells_k = api.indicators("kommune", indicator=wanted, role=r, warehouse=warehouse)
    if cells_k.height:
        cells_k = cells_k.filter(pl.col("kommunenummer") == kommune)
    start_frames, prog_frames = [], []
    for ind in wanted:
        start_frames.append(api.compare(indicator=ind, phase=1, role=r, warehouse=warehouse,
                                        schools=orgnrs))
        prog_frames.append(api.compare(indicator=ind, phase="program", role=r,
                                       warehouse=warehouse, schools=orgnrs))
    start = pl.concat(start_frames, how="vertical_relaxed")
    programme = pl.concat(prog_frames, how="vertical_relaxed")
    min_n = api.threshold(warehouse)
    as_of = catalogue.data_as_of(warehouse=warehouse)
    blocks: list[Block] = [
        Para(_t("subtitle", lang, kommune=kommune_name, skoleaar=skoleaar)),
        Para(_t("intro", lang, role=str(r))),
    ]
    if as_of:
        blocks.append(Para(_t("data_as_of", lang, date=as_of)))
    blocks += [Heading(_t("sec_indicators", lang), 1),
               Para(_t("indicators_text", lang, skoleaar=skoleaar))]
    for ind in wanted:
        info = indicators[ind]
        blocks += _indicator_section(ind, info.kind, info.label(lang), cells_s, cells_k,
                                     start, programme, school_rows, kommune, kommune_name,
                                     year_terms, lang)
        if ind == HEADLINE and cells_k.height:
            fig = _spekter_figure(cells_k, kommune_name, lang)
            if fig is not None:
                blocks.append(fig)
    blocks += [Para(_t("indicators_cannot", lang)),
               Para(_t("hidden_note", lang, hidden=_hidden(lang), min_n=min_n))]
    blocks += _eu_section(r, warehouse, kommune, kommune_name, lang)
    blocks += _lmp_section(r, warehouse, kommune, year_terms, lang)
    blocks += _quality_section(r, warehouse, kommune, year_terms, lang)
    return Chapter(kommune=kommune, kommune_name=kommune_name, skoleaar=skoleaar, lang=lang,
                   role=str(r), min_n=min_n, data_as_of=as_of,
                   title=f"{_t('title', lang)} – {kommune_name} {skoleaar}",
                   blocks=tuple(blocks))
