"""Nynorsk everywhere users read (AppTest): every page, for a programme and a municipality role,
in nynorsk shows no string key and no bokmål-only or English word outside names and codes.

The words checked are those of :mod:`tests.nynorsk_words` (Nynorskordboka forms)."""

from __future__ import annotations

import json

import pytest
from dash_helpers import PAGES, app, elements, problems, texts

from tests.nynorsk_words import offending

PAGES_NN = {**PAGES, "tilstandsrapport": "app_pages/tilstandsrapport.py"}


def _spec_texts(spec: str) -> list[str]:
    """The words a chart shows: titles, axis and legend titles, and labelExpr strings (not
    field names, data or Vega expressions)."""
    out: list[str] = []

    def walk(obj) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                if k in ("title", "text", "description") and isinstance(v, str):
                    out.append(v)
                elif k == "title" and isinstance(v, dict):
                    out.extend(t for t in (v.get("text"), v.get("subtitle")) if isinstance(t, str))
                elif k not in ("data", "datasets", "field", "expr", "calculate", "filter"):
                    walk(v)
        elif isinstance(obj, list):
            for item in obj:
                walk(item)

    walk(json.loads(spec))
    return out


def _page_words(at) -> list[str]:
    """What the reader sees on the main area: every text but chart specs, plus the chart titles."""
    code = {e.value for e in elements(at, main_only=True) if getattr(e, "type", "") == "code"}
    out = [t for t in texts(at, main_only=True)
           if not t.lstrip().startswith("{") and t not in code]  # code: shown verbatim
    for e in elements(at, main_only=True):
        if getattr(e, "type", "") == "vega_lite_chart":
            out += _spec_texts(e.proto.spec)
    return out


def _names(roster) -> list[str]:
    schools = roster["schools"]
    names = [*schools["skole"].to_list(),
             *[n for n in schools.get_column("kommune").to_list() if n]] if (
        "kommune" in schools.columns) else schools["skole"].to_list()
    return sorted({n for n in names if n}, key=len, reverse=True)


@pytest.mark.parametrize("role_index", [0, 1], ids=["program", "kommune"])
def test_every_page_in_nynorsk_has_no_key_and_no_bokmal_or_english_word(env, roster,
                                                                         role_index):
    role = roster["roles"][role_index]
    at = app(role=role, lang="nn")
    names = _names(roster)
    found: dict[str, set[str]] = {}
    for page in PAGES_NN:
        if not getattr(at, "_lmp_started", False):
            at.run()
            at._lmp_started = True
        at.switch_page(PAGES_NN[page]).run()
        assert not problems(at), (page, problems(at))
        errors = [e.value for e in at.error]   # the app's error message in nynorsk
        assert not any("Noko gjekk gale" in e for e in errors), (page, errors)
        for text in _page_words(at):
            hits = offending(text, names)
            if hits:
                found.setdefault(page, set()).update(
                    f"{h!r} in {text[:90]!r}" for h in hits)
    assert not found, "\n".join(f"{p}: {sorted(v)[:12]}" for p, v in found.items())
