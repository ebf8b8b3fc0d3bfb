"""User-facing strings as data: one TOML file per language in ``strings/``.

Every file has the same keys (a test checks it). Keys are dotted, ``section.name``:
``report.title``, ``dashboard.page_skole``, ``test.boschloo``, ``unit.points``. A new written
standard is a new file plus its code in :data:`LANGS` (``nn.toml`` is nynorsk).
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Literal

Lang = Literal["nb", "nn", "en"]
LANGS: tuple[Lang, ...] = ("nb", "nn", "en")


def check_lang(lang: str) -> Lang:
    """``lang`` if it is one of :data:`LANGS`, else ValueError."""
    if lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}, got {lang!r}")
    return lang  # type: ignore[return-value]


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, val in table.items():
        name = f"{prefix}{key}"
        if isinstance(val, dict):
            out.update(_flatten(val, name + "."))
        else:
            out[name] = val
    return out


@cache
def strings(lang: str) -> dict[str, str]:
    """All strings of one language, keyed ``section.name``."""
    lang = check_lang(lang)
    data = resources.files(__package__).joinpath("strings", f"{lang}.toml").read_bytes()
    return _flatten(tomllib.loads(data.decode("utf-8")))


def section(name: str, lang: str) -> dict[str, str]:
    """The strings of one section (``report``, ``dashboard``, ...) keyed by their short name."""
    prefix = name + "."
    return {k[len(prefix):]: v for k, v in strings(lang).items() if k.startswith(prefix)}


def has(key: str) -> bool:
    """Whether ``key`` (``section.name``) is a known string."""
    return key in strings(LANGS[0])


def text(key: str, lang: str, **kwargs) -> str:
    """The string ``key`` in ``lang``, with ``{name}`` fields filled from ``kwargs``."""
    out = strings(lang)[key]
    return out.format(**kwargs) if kwargs else out
