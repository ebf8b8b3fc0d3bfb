"""How a number must look in a report, written independently of lmp_analytics.presentation.fmt.

Bokmål: decimal comma, ``12,3 %``, changes signed with U+2212 / ``+`` and ``p.p.``; English:
``12.3%`` and ``pp``. No-break spaces are compared as plain spaces (see conftest.pdf_text).
"""

from __future__ import annotations

MINUS = "\u2212"


def num(x: float, digits: int, lang: str = "nb", *, signed: bool = False) -> str:
    body = f"{abs(x):.{digits}f}"
    if lang == "nb":
        body = body.replace(".", ",")
    if set(body) <= {"0", ",", "."}:
        return body  # zero has no sign
    if x < 0:
        return MINUS + body
    return ("+" + body) if signed else body


def pct(share: float, lang: str = "nb") -> str:
    return num(100 * share, 1, lang) + (" %" if lang == "nb" else "%")


def mean(x: float, lang: str = "nb") -> str:
    return num(x, 2, lang)


def level(x: float, kind: str, lang: str = "nb") -> str:
    return pct(x, lang) if kind == "share" else mean(x, lang)


def ci(low: float, high: float, kind: str, lang: str = "nb", *, change: bool = False) -> str:
    if kind == "share":
        return (f"{num(100 * low, 1, lang, signed=change)}\u2013"
                f"{num(100 * high, 1, lang, signed=change)}")
    return f"{num(low, 2, lang, signed=change)}\u2013{num(high, 2, lang, signed=change)}"


def diff(d: float, kind: str, lang: str = "nb") -> str:
    if kind == "share":
        return num(100 * d, 1, lang, signed=True) + (" p.p." if lang == "nb" else " pp")
    return num(d, 2, lang, signed=True)
