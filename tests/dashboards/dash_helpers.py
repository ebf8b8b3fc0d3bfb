"""Running the dashboard in AppTest and reading everything it would send to a browser."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
PAGES = {
    "oversikt": "app_pages/oversikt.py",
    "skole": "app_pages/skole.py",
    "faser": "app_pages/faser.py",
    "sammenligning": "app_pages/sammenligning.py",
    "datakvalitet": "app_pages/datakvalitet.py",
    "om": "app_pages/om_tallene.py",
}
TIMEOUT = 120


def app(*, role: str | None = None, lang: str | None = None, query: dict | None = None,
        user: dict | None = None, secrets: dict | None = None) -> AppTest:
    """A fresh AppTest of the dashboard (not yet run)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if role:
        at.query_params["role"] = role
    if lang:
        at.query_params["lang"] = lang
    for k, v in (query or {}).items():
        at.query_params[k] = v
    if user is not None:
        at.user = user
    if secrets is not None:
        at.secrets = secrets
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    """Run the app once (if needed) and switch to ``page`` (a key of PAGES)."""
    if not getattr(at, "_lmp_started", False):
        at.run()
        at._lmp_started = True  # type: ignore[attr-defined]
    return at.switch_page(PAGES[page]).run()


def walk(node) -> Iterator:
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield child
            yield from walk(child)


def elements(at: AppTest, *, main_only: bool = False) -> list:
    root = at.main if main_only else at._tree
    return list(walk(root))


def chart_rows(element) -> list[dict]:
    """Every data row a Vega-Lite chart element carries (inline data and named datasets)."""
    rows: list[dict] = []
    spec = json.loads(element.proto.spec)

    def inline(obj):
        if isinstance(obj, dict):
            data = obj.get("data")
            if isinstance(data, dict) and isinstance(data.get("values"), list):
                rows.extend(v for v in data["values"] if isinstance(v, dict))
            for key, value in obj.items():
                if key == "datasets" and isinstance(value, dict):
                    for values in value.values():
                        if isinstance(values, list):
                            rows.extend(v for v in values if isinstance(v, dict))
                else:
                    inline(value)
        elif isinstance(obj, list):
            for item in obj:
                inline(item)

    inline(spec)
    for ds in element.proto.datasets:
        raw = ds.data.data
        if raw:
            rows.extend(pa.ipc.open_stream(raw).read_all().to_pylist())
    if element.proto.data.data:
        rows.extend(pa.ipc.open_stream(element.proto.data.data).read_all().to_pylist())
    return rows


def texts(at: AppTest, *, main_only: bool = False) -> list[str]:
    """Every string the page would send: text elements, table cells and headers, widget labels
    and options, chart specs and chart data."""
    out: list[str] = []
    for e in elements(at, main_only=main_only):
        kind = getattr(e, "type", "")
        if kind == "dataframe":
            frame = e.value
            out += [str(c) for c in frame.columns]
            out += [str(v) for v in frame.astype(str).to_numpy().ravel().tolist()]
        elif kind == "vega_lite_chart":
            out.append(e.proto.spec)
            out += [json.dumps(r, default=str, ensure_ascii=False) for r in chart_rows(e)]
        elif hasattr(e, "options"):
            out += [str(o) for o in e.options]
            out.append(str(getattr(e, "label", "")))
        else:
            for attr in ("value", "label", "body"):
                v = getattr(e, attr, None)
                if isinstance(v, str):
                    out.append(v)
    return out


def dataframes(at: AppTest, *, main_only: bool = True) -> list:
    """The frames of the st.dataframe tables (:func:`all_tables` adds the st.table ones)."""
    return [e.value for e in elements(at, main_only=main_only)
            if getattr(e, "type", "") == "dataframe"]


def all_tables(at: AppTest, *, main_only: bool = True) -> list:
    """Every table's frame: st.dataframe and st.table (whose first column is its index: put
    back as a column, so both read alike)."""
    out = []
    for e in elements(at, main_only=main_only):
        kind = getattr(e, "type", "")
        if kind == "dataframe":
            out.append(e.value)
        elif kind == "table":
            out.append(e.value.reset_index())
    return out


def charts(at: AppTest) -> list:
    return [e for e in elements(at) if getattr(e, "type", "") == "vega_lite_chart"]


def problems(at: AppTest) -> list[str]:
    """Uncaught exceptions and the app's generic error message."""
    out = [f"exception: {e.value}" for e in at.exception]
    out += [f"error: {e.value}" for e in at.error
            if "Noe gikk galt" in e.value or "Something went wrong" in e.value]
    return out
