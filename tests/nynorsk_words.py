"""The nynorsk check every surface shares (dashboards in AppTest and the browser, the school
report, the CLI): no string key and no bokmål-only or English word outside names and code spans.

The markers are words whose nynorsk form differs (Nynorskordboka): bokmål "ikke" (nn "ikkje"),
"hvor" (kor), "hva" (kva), "hvordan" (korleis), "hvis" (viss), "fra" (frå), "noen" (nokon),
"skoler" (skular), "gutter" (gutar), "ble" (vart/blei), "være" (vere), "elevene" (elevane),
"mobbingen" (mobbinga); English "the", "and", "school", "change", "hidden"."""

from __future__ import annotations

import re
from collections.abc import Iterable

BOKMAL = ("ikke", "hvor", "hva", "hvordan", "hvis", "fra", "noen", "skoler", "gutter", "ble",
          "være", "elevene", "mobbingen")
ENGLISH = ("the", "and", "school", "change", "hidden")
MARKERS = re.compile(r"(?<![\w-])(" + "|".join(BOKMAL + ENGLISH) + r")(?![\w-])", re.IGNORECASE)
KEY = re.compile(r"\b(dashboard|report|tilstand|caveat|verdict|reason|test|unit|cli|national)"
                 r"\.[a-z_]+\.?[a-z_]*\b")
CODE_SPAN = re.compile(r"`[^`]*`")


def offending(text: str, names: Iterable[str] = ()) -> set[str]:
    """The bokmål-only or English words and the key names in ``text``, after removing
    ``names`` (schools and municipalities are not ours to translate; longest first) and code
    spans (messages shown verbatim)."""
    for name in sorted(set(names), key=len, reverse=True):
        if name:
            text = text.replace(name, " ")
    text = CODE_SPAN.sub(" ", text)
    hits = {m.group(0) for m in MARKERS.finditer(text)}
    return hits | {m.group(0) for m in KEY.finditer(text)}
