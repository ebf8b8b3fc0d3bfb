"""The municipality's annual state-report chapter (tilstandsrapport) on the learning
environment and bullying, in bokmål, nynorsk or English, as DOCX, PDF, HTML or Markdown::

    from lmp_analytics.reports.tilstand import render_tilstand
    docx = render_tilstand("5530", "2025-26", fmt="docx", lang="nn", role="kommune:5530")

:mod:`.content` reads every number through the role-scoped, suppressed API and lays the chapter
out as blocks; :mod:`.word` and :mod:`.markup` write those blocks. The same warehouse and
arguments give the same bytes: no clock is read (the documents' dates are the warehouse's last
ingest day, or ``SOURCE_DATE_EPOCH``). :func:`write_tilstandsrapport` writes the file audited,
like every export (:func:`lmp_analytics.warehouse.audit.write_outputs`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from lmp_analytics.privacy.roles import Role
from lmp_analytics.reports.tilstand.content import Chapter, Figure, chapter, school_year_terms

FORMATS = ("docx", "pdf", "html", "md")

__all__ = ["FORMATS", "Chapter", "chapter", "filename", "render_chapter", "render_tilstand",
           "school_year_terms", "write_tilstandsrapport"]


def _created(ch: Chapter) -> dt.datetime | None:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    if ch.data_as_of:
        return dt.datetime.fromisoformat(ch.data_as_of).replace(tzinfo=dt.UTC)
    return None


def _images(ch: Chapter) -> dict[int, bytes]:
    """Each figure block rendered to PNG (vl-convert, the report charts' renderer)."""
    import vl_convert as vlc

    from lmp_analytics.presentation.fmt import vega_locale

    locale = vega_locale(ch.lang)["number"]
    return {i: vlc.vegalite_to_png(b.spec, scale=2, format_locale=locale)
            for i, b in enumerate(ch.blocks) if isinstance(b, Figure)}


def render_chapter(ch: Chapter, fmt: str) -> bytes:
    """A chapter already read, as bytes in ``fmt``."""
    from lmp_analytics.reports.tilstand.markup import to_html, to_markdown

    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    images = _images(ch)
    created = _created(ch)
    if fmt == "docx":
        from lmp_analytics.reports.tilstand.word import to_docx

        return to_docx(ch, images, created)
    if fmt == "md":
        return to_markdown(ch, images).encode("utf-8")
    page = to_html(ch, images, created)
    if fmt == "html":
        return page.encode("utf-8")
    from lmp_analytics.reports.render import html_to_pdf

    return html_to_pdf(page)


def render_tilstand(kommune: str, skoleaar: str, *, fmt: str = "docx", lang: str = "nb",
                    role: str | Role | None = "program", warehouse=None) -> bytes:
    """The chapter as bytes (no audit line: a caller handing them to a person records one,
    as :func:`write_tilstandsrapport` and the dashboard do)."""
    return render_chapter(chapter(kommune, skoleaar, lang=lang, role=role,
                                  warehouse=warehouse), fmt)


def filename(kommune: str, skoleaar: str, lang: str, fmt: str) -> str:
    """``lmp-tilstandsrapport-5530-2025-26-nn.docx``."""
    safe = re.sub(r"[^0-9A-Za-z-]", "", f"{kommune}-{skoleaar}")
    return f"lmp-tilstandsrapport-{safe}-{lang}.{fmt}"


def write_tilstandsrapport(out: str | Path | None, kommune: str, skoleaar: str, *,
                           fmt: str = "docx", lang: str = "nb",
                           role: str | Role | None = "program", warehouse=None) -> Path:
    """Render and write the chapter audited (``out`` None: the default file name in the
    current folder). Nothing is written unless the audit line is recorded."""
    from lmp_analytics import api
    from lmp_analytics.warehouse import audit

    r = api.as_role(role)
    ch = chapter(kommune, skoleaar, lang=lang, role=r, warehouse=warehouse)
    data = render_chapter(ch, fmt)
    path = Path(out) if out is not None else Path(filename(kommune, skoleaar, lang, fmt))
    audit.write_outputs(
        [(path, data)], action="tilstandsrapport", role=str(r),
        scope=f"kommune {kommune}", warehouse=warehouse, min_n=ch.min_n,
        detail=f"tilstandsrapport skoleaar={skoleaar}, format={fmt}, lang={lang}",
    )
    return path
