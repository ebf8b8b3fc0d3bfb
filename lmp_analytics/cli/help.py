"""``--help`` in the language of ``LMP_LANG``: every help text of the ``lmp`` commands and
options is looked up by its English text among the ``cli.help.*`` strings and shown in nb, nn or
en (default en). The commands keep their English help in the code (the README's command list
and ``lmp --help`` without ``LMP_LANG`` stay as they are); a help text that is only a list of
values (``table | csv | parquet``) needs no translation.

Click's own words (``Usage``, ``Options``, ``Commands``, ``[default: ...]``) stay English;
the ``--help`` option's own text is translated."""

from __future__ import annotations

import re
from functools import cache

from lmp_analytics.presentation.strings import section

#: A help text that only lists values: the same in every language.
VALUES_ONLY = re.compile(r"^[\w:<>,.\-]+( \| [\w:<>,.\-]+)+$")


def normalised(text: str) -> str:
    """``text`` with each paragraph on one line (docstrings are indented and wrapped)."""
    paragraphs = [" ".join(p.split()) for p in text.strip().split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


@cache
def _keys() -> dict[str, str]:
    return {text: key for key, text in section("cli.help", "en").items()}


def key_of(text: str) -> str | None:
    """The ``cli.help`` key of an English help text (None: not in the language files)."""
    return _keys().get(normalised(text))


def help_texts(command, ctx=None) -> list[tuple[object, str]]:
    """(owner, attribute) of every help text under ``command`` (the command, its parameters,
    its subcommands), English as the code gives it; with ``ctx``, also each command's
    ``--help`` option (made here as click would make it)."""
    out = [(command, "help")]
    out += [(param, "help") for param in command.params if getattr(param, "help", None)]
    helper = command.get_help_option(ctx) if ctx is not None else None
    if helper is not None:
        out.append((helper, "help"))
    for sub in getattr(command, "commands", {}).values():
        out += help_texts(sub, ctx)
    return out


def localize(command, lang: str, ctx=None) -> None:
    """Put every help text under ``command`` into ``lang`` (``en``: back to the English of the
    code); ``ctx`` (the command's context) adds the ``--help`` options. The English text is
    kept on the owner, so that this can run again in another language."""
    strings = section("cli.help", lang)
    for owner, attr in help_texts(command, ctx):
        english = owner.__dict__.setdefault("_lmp_help_en", getattr(owner, attr))
        if not english:
            continue
        key = key_of(english)
        setattr(owner, attr, strings[key] if key and lang != "en" else english)
