"""Text from data made safe for the terminal: no Rich markup, no control characters.

Every value that comes from data or from the user (school names, group labels, quarantined
values, file names, error messages) goes through :func:`safe` before it is put into a Rich
markup string, or through :func:`cell` before it becomes a table cell. A school named
``Brekke [/] skole`` then prints as written instead of crashing the command, ``[link=…]`` stays
text, and ANSI/OSC escape sequences cannot colour, move the cursor or plant hyperlinks.
"""

from __future__ import annotations

import re

from rich.markup import escape
from rich.text import Text

#: C0 controls, DEL, C1 controls and the Unicode bidirectional overrides/isolates (which can
#: make a name read backwards). Tab and newline are controls too: one value prints on one line.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: What a removed control character is shown as (visible, so nothing is hidden silently).
REPLACEMENT = "\ufffd"


def plain(value: object, *, keep_newlines: bool = False) -> str:
    """``value`` as text with every control character replaced by U+FFFD (markup untouched).

    ``keep_newlines``: keep ``\\n`` (messages written over several lines by this package)."""
    text = "" if value is None else str(value)
    if keep_newlines:
        return "\n".join(_CONTROL.sub(REPLACEMENT, part) for part in text.split("\n"))
    return _CONTROL.sub(REPLACEMENT, text)


def safe(value: object, *, keep_newlines: bool = False) -> str:
    """``value`` ready to interpolate into a Rich markup string: controls replaced, markup
    escaped (``[/]`` prints as ``[/]``)."""
    return escape(plain(value, keep_newlines=keep_newlines))


def cell(value: object, style: str = "") -> Text:
    """A Rich table cell (a ``Text``, never parsed as markup) holding ``value`` safely."""
    return Text(plain(value), style=style)
