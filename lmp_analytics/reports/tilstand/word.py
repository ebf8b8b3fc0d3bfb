"""The chapter as a Word document (python-docx): built-in heading styles (Heading 1/2, so a
municipality's template takes them over), real tables, figures as PNG with alternative text, the
document language set (nb-NO / nn-NO / en-GB) and fixed timestamps, so the same chapter gives the
same bytes."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm

from lmp_analytics.reports.tilstand.content import Chapter, Figure, Heading, Para, Table

LOCALES = {"nb": "nb-NO", "nn": "nn-NO", "en": "en-GB"}
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _set_language(doc, locale: str) -> None:
    """Proofing language of every run: the default run properties of styles.xml."""
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault"))
    rpr = rpr_default.find(qn("w:rPr"))
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), locale)
    lang.set(qn("w:eastAsia"), locale)
    lang.set(qn("w:bidi"), locale)


def _alt_text(doc, descr: str) -> None:
    """Put ``descr`` on the last inline picture (``wp:docPr/@descr``: Word's alt text)."""
    pics = doc.element.body.findall(".//" + qn("wp:docPr"))
    pics[-1].set("descr", descr)


def _stable_zip(data: bytes) -> bytes:
    """The same archive with fixed entry timestamps (python-docx stamps the current time)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def to_docx(chapter: Chapter, images: dict[int, bytes], created: dt.datetime | None) -> bytes:
    """The chapter as DOCX bytes; ``images`` maps a Figure block's index to its PNG."""
    doc = Document()
    locale = LOCALES[chapter.lang]
    _set_language(doc, locale)
    props = doc.core_properties
    when = created or EPOCH
    props.title = chapter.title
    props.author = "lmp_analytics"
    props.last_modified_by = "lmp_analytics"
    props.language = locale
    props.created = when
    props.modified = when
    props.last_printed = when
    props.revision = 1
    doc.add_heading(chapter.title, level=0)
    for i, block in enumerate(chapter.blocks):
        if isinstance(block, Heading):
            doc.add_heading(block.text, level=block.level)
        elif isinstance(block, Para):
            doc.add_paragraph(block.text)
        elif isinstance(block, Table):
            table = doc.add_table(rows=1, cols=len(block.header))
            table.style = "Table Grid"
            for cell, value in zip(table.rows[0].cells, block.header, strict=True):
                cell.text = value
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            for row in block.rows:
                cells = table.add_row().cells
                for cell, value in zip(cells, row, strict=True):
                    cell.text = value
            doc.add_paragraph()
        elif isinstance(block, Figure) and i in images:
            doc.add_picture(io.BytesIO(images[i]), width=Cm(15))
            _alt_text(doc, block.alt)
            doc.add_paragraph(block.caption, style="Caption")
    buf = io.BytesIO()
    doc.save(buf)
    return _stable_zip(buf.getvalue())
