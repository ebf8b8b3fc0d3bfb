"""The print stylesheet: a browser print (Ctrl+P, "Save as PDF") of any page gives the page's
content on A4 paper, without the sidebar, header, toolbar and download buttons, charts and
tables scaled to the paper's width and never split across two pages.

Streamlit draws its main area as a scrolling box the height of the window; printed as it is,
only the visible part would reach the paper, so the stylesheet lets every container grow to
its content. Injected once per script run by ``app.py`` (:func:`inject`)."""

from __future__ import annotations

import streamlit as st

PRINT_CSS = """
@media print {
  @page { size: A4 portrait; margin: 12mm; }
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
  [data-testid="stSidebarNav"], [data-testid="stHeader"], [data-testid="stToolbar"],
  [data-testid="stDecoration"], [data-testid="stStatusWidget"],
  [data-testid="stDownloadButton"], [data-testid="stBottom"], header, footer,
  .stDeployButton { display: none !important; }
  html, body, .stApp, [data-testid="stApp"], [data-testid="stAppViewContainer"],
  [data-testid="stMain"], [data-testid="stMainBlockContainer"] {
    height: auto !important; min-height: 0 !important; overflow: visible !important;
    position: static !important;
  }
  [data-testid="stMain"], [data-testid="stMainBlockContainer"] {
    width: 100% !important; max-width: 100% !important; margin: 0 !important;
    padding: 0 !important;
  }
  [data-testid="stVegaLiteChart"], [data-testid="stMetric"], [data-testid="stTable"],
  [data-testid="stDataFrame"], [data-testid="stAlert"], [data-testid="stImage"],
  [data-testid="stHorizontalBlock"] { break-inside: avoid; page-break-inside: avoid; }
  h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
  /* four or more columns side by side (the phase cards) two per row: a quarter of A4 is
     too narrow for their text */
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"]:nth-child(4)) {
    flex-wrap: wrap !important;
  }
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"]:nth-child(4))
    > [data-testid="stColumn"] {
    flex: 1 1 calc(50% - 1rem) !important; min-width: calc(50% - 1rem) !important;
  }
  [data-testid="stVegaLiteChart"], [data-testid="stVegaLiteChart"] > div {
    width: 100% !important; max-width: 100% !important; overflow: visible !important;
  }
  [data-testid="stVegaLiteChart"] svg, [data-testid="stVegaLiteChart"] canvas {
    max-width: 100% !important; height: auto !important;
  }
  [data-testid="stTable"] table { width: 100% !important; table-layout: auto; }
  [data-testid="stTable"] { overflow: visible !important; }
}
"""


def inject() -> None:
    """Add the print stylesheet to the page (a style block takes no room on screen)."""
    st.html(f"<style>{PRINT_CSS}</style>")
