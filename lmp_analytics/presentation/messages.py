"""Keyed user-facing messages of the core: a file's refusal, an ingest notice or warning.

The text of each lives in the language files under ``cli.<key>`` (``cli.reject.*`` for a
refused file's reason, ``cli.notice.*`` for notices and warnings). The core keeps the English
text (what ``str()``, logs and JSON reports show); the CLI says it in ``LMP_LANG`` from the key
and values the message carries (:func:`lmp_analytics.errors.keyed`,
:class:`lmp_analytics.errors.Message`). The English text comes from ``en.toml``, so it is
written once.
"""

from __future__ import annotations

import re
from functools import cache

from lmp_analytics.errors import FileRejected, Message, keyed
from lmp_analytics.presentation.strings import section, text

__all__ = ["ITEMS", "LINES", "expectation", "joined", "keyed_reason", "message", "refusal",
           "rejection"]

#: How a list value of a message is joined (one line each, indented), in every language;
#: a tuple value is joined by :data:`ITEMS`.
LINES = "\n  "
ITEMS = "; "


def joined(value: list | tuple, say=str) -> str:
    """A list value (one line each) or tuple value (``; ``) of a message as text, each element
    through ``say``."""
    return (LINES if isinstance(value, list) else ITEMS).join(say(v) for v in value)


def _english(values: dict) -> dict:
    return {k: joined(v) if isinstance(v, list | tuple) else v for k, v in values.items()}


def message(key: str, **values: object) -> Message:
    """The message ``cli.<key>`` in English, carrying ``key`` and ``values`` (a list value is
    one line per element, :data:`LINES`)."""
    return Message(text(f"cli.{key}", "en", **_english(values)), key, values)


@cache
def _expectations() -> dict[str, str]:
    return {english: f"expect.{name}" for name, english in section("cli.expect", "en").items()}


def expectation(english: str) -> str:
    """What a check expected (``"a whole number"``), keyed when the language files have that
    exact text under ``cli.expect``; else the text as it is."""
    key = _expectations().get(english)
    return Message(english, key, {}) if key else english


def refusal(cls: type[Exception], key: str, **values: object) -> Exception:
    """An exception ``cls`` (a refusal the CLI prints, e.g. ``ReportError``, ``UsageError``)
    whose message is ``cli.refusal.<key>`` in English, keyed for the CLI."""
    full = f"refusal.{key}"
    return keyed(cls(text(f"cli.{full}", "en", **_english(values))), full, **values)


def rejection(path: object, key: str, *, row: int | None = None, column: str | None = None,
              cls: type[FileRejected] = FileRejected, **values: object) -> FileRejected:
    """A refused file (``cls``: :class:`FileRejected` or a subclass) whose reason is
    ``cli.reject.<key>``: the English reason, keyed for the CLI. ``row`` and ``column`` name
    the cell that explains the refusal."""
    full = f"reject.{key}"
    return keyed(cls(str(path), text(f"cli.{full}", "en", **_english(values)), row=row,
                     column=column), full, **values)  # type: ignore[return-value]


_FIELD = re.compile(r"\{(\w+)\}")


@cache
def _reason_templates(name: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """The English texts of section ``cli.<name>`` as patterns (a ``{field}`` matches any
    text), the most literal first, each with its key."""
    made = []
    for short, english in section(f"cli.{name}", "en").items():
        parts, seen, literal = [], set(), 0
        for i, piece in enumerate(_FIELD.split(english)):
            if i % 2 == 0:
                parts.append(re.escape(piece))
                literal += len(piece)
            else:
                parts.append(f"(?P={piece})" if piece in seen else f"(?P<{piece}>.+?)")
                seen.add(piece)
        if literal:
            made.append((literal, re.compile("".join(parts), re.DOTALL), f"{name}.{short}"))
    return tuple((pattern, key) for _, pattern, key in sorted(made, key=lambda m: -m[0]))


def keyed_reason(english: str, names: tuple[str, ...] = ("eu_reason", "expect")) -> str:
    """A reason the core stored as English text (e.g. why an Elevundersøkelsen row was
    quarantined) as a :class:`Message` keyed by the text of sections ``cli.<name>`` (of
    ``names``, in order) it is, its values taken back from the text (each keyed in turn where
    it is one); the text as it is when no text of those sections matches it."""
    for name in names:
        for pattern, key in _reason_templates(name):
            found = pattern.fullmatch(english)
            if found:
                values = {k: keyed_reason(v, names) for k, v in found.groupdict().items()}
                return Message(english, key, values)
    return english
