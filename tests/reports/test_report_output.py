"""Golden HTML for a fixed synthetic world, byte-identical reruns and PNG pages to look at.

The golden file holds the HTML with each chart's SVG replaced by a placeholder (SVG bytes belong
to vl-convert's bundled Vega), and a second golden file holds the charts' Vega-Lite data, so a
change of any number or text shows up here. Regenerate both after an intended change with::

    LMP_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/reports -k golden
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from report_helpers import ARTIFACTS, need_poppler

from lmp_analytics.reports import ReportSource, render, render_school_report, school_report
from lmp_analytics.reports.charts import headline_spec, scales_spec
from lmp_analytics.reports.render import render_html

GOLDEN = Path(__file__).resolve().parent / "golden"
GOLDEN_SCHOOL = "988202045"  # Solberg barneskole, pulje 1, in the report_world of conftest
GOLDEN_TERM = "2026V"
FIXED_DAY = "2026-01-01"
UPDATE = os.environ.get("LMP_UPDATE_GOLDEN") == "1"


def _compare(path: Path, actual: str) -> None:
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{path.name} did not exist; written now — check it in and rerun")
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        a, e = actual.splitlines(), expected.splitlines()
        first = next((i for i, (x, y) in enumerate(zip(a, e, strict=False)) if x != y),
                     min(len(a), len(e)))
        pytest.fail(
            f"{path.name} differs from the golden file at line {first + 1}:\n"
            f"  golden: {e[first] if first < len(e) else '<end>'}\n"
            f"  now:    {a[first] if first < len(a) else '<end>'}\n"
            "Set LMP_UPDATE_GOLDEN=1 to accept an intended change."
        )


def _chart_data(spec: dict | None) -> object:
    if spec is None:
        return None
    return {"datasets": spec.get("datasets"), "title": spec.get("title")}


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_golden_html(report_world, lang):
    report = school_report(GOLDEN_SCHOOL, term=GOLDEN_TERM, lang=lang, warehouse=report_world)
    report = dataclasses.replace(report, data_as_of=FIXED_DAY)  # the ingest day moves
    html = render_html(report, charts={"headline": "chart:headline", "scales": "chart:scales"})
    _compare(GOLDEN / f"school_report_{GOLDEN_SCHOOL}_{lang}.html", html)
    charts = {"headline": _chart_data(headline_spec(report)),
              "scales": _chart_data(scales_spec(report))}
    _compare(GOLDEN / f"school_report_{GOLDEN_SCHOOL}_{lang}.charts.json",
             json.dumps(charts, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def test_same_warehouse_same_bytes(report_world, tmp_path):
    """Two independent runs (fresh sources): byte-identical HTML and PDF."""
    first_html = render_school_report(GOLDEN_SCHOOL, fmt="html", warehouse=report_world)
    second = ReportSource(warehouse=report_world)
    second_html = render_school_report(GOLDEN_SCHOOL, fmt="html", source=second)
    assert first_html == second_html
    assert b"<svg" not in first_html  # charts are data URIs of SVG documents
    assert re.search(rb'src="data:image/svg\+xml;base64,', first_html)
    report = school_report(GOLDEN_SCHOOL, source=second)
    assert render(report, "pdf") == render(report, "pdf")
    pdf = render(report, "pdf")
    assert pdf.startswith(b"%PDF-")
    # The creation date is the data's date (last ingest), not the clock's.
    need_poppler()
    (tmp_path / "r.pdf").write_bytes(pdf)
    info = subprocess.run(["pdfinfo", "-isodates", str(tmp_path / "r.pdf")], check=True,
                          capture_output=True, text=True).stdout
    assert re.search(rf"CreationDate:\s+{report.data_as_of}T00:00:00", info), info


def test_pdf_pages_as_png(report_world, sample_warehouse):
    """Write the PDF of a world school and of a sample school below min_n, with their pages as
    PNG, to test-artifacts/reports (to be looked at; 2-4 pages each)."""
    need_poppler()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*"):
        old.unlink()
    for name, orgnr, term, wh in (("world", GOLDEN_SCHOOL, None, report_world),
                                  ("sample-below-min-n", "964338531", "2024H", sample_warehouse)):
        pdf = ARTIFACTS / f"{name}-{orgnr}.pdf"
        pdf.write_bytes(render_school_report(orgnr, term=term, fmt="pdf", warehouse=wh))
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(ARTIFACTS / f"{name}-page")],
                       check=True)
        pages = sorted(ARTIFACTS.glob(f"{name}-page-*.png"))
        assert 2 <= len(pages) <= 4, pages
        for page in pages:
            assert page.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert page.stat().st_size > 5_000  # not blank
