"""Checking an enumerated option's value against its allowed values, with the spellings users
type: English (``school``, ``municipality``, ``group``, ``cohort``, ``gender``, ``grade``),
any case, and Norwegian letters (``kjønn`` = ``kjonn``).

The allowed values themselves stay where they are defined (``metrics.indicators.LEVELS``,
``evaluation.change_table.PHASE_RANK``, ``reports.export.EXPORT_FORMATS``, …); the caller passes
them. :func:`choose` returns the canonical value or raises :class:`~lmp_analytics.errors.
UsageError` naming the option, the value and every allowed value.
"""

from __future__ import annotations

from collections.abc import Iterable

from lmp_analytics.errors import UsageError, keyed
from lmp_analytics.ingest.readers import normalise_column

#: Spellings users type -> the package's value (used only when that value is allowed).
ALIASES: dict[str, str] = {
    "school": "skole", "schools": "skole", "skoler": "skole",
    "municipality": "kommune", "municipalities": "kommune", "kommuner": "kommune",
    "group": "gruppe", "groups": "gruppe", "class": "gruppe", "klasse": "gruppe",
    "grupper": "gruppe",
    "cohort": "pulje", "cohorts": "pulje", "puljer": "pulje",
    "programme": "program", "programmet": "program",
    "gender": "kjonn", "sex": "kjonn",
    "grade": "trinn", "grades": "trinn", "klassetrinn": "trinn",
    "all": "alle", "total": "alle",
    "round": "runde", "rounds": "runde", "runder": "runde",
    "norwegian": "nb", "norsk": "nb", "bokmal": "nb", "no": "nb", "nob": "nb",
    "nynorsk": "nn", "nno": "nn",
    "english": "en", "engelsk": "en", "eng": "en",
    "excel": "xlsx",
}
#: The English word the error message suggests for a value (the first alias above).
ENGLISH: dict[str, str] = {}
for _alias, _value in ALIASES.items():
    ENGLISH.setdefault(_value, _alias)


def fold(value: object) -> str:
    """How option values are compared: as column names are (``' Kjønn '`` -> ``kjonn``,
    ``'mobbet digitalt'`` -> ``mobbet_digitalt``)."""
    return normalise_column(str(value))


def choose(option: str, value: object, allowed: Iterable[object]) -> str:
    """The allowed value ``value`` means (case-, æøå- and alias-insensitive).

    Raises :class:`UsageError` (exit code 2 in the CLI) with every allowed value otherwise."""
    values = [str(a) for a in allowed]
    by_fold = {fold(a): a for a in values}
    key = fold(value)
    if key in by_fold:
        return by_fold[key]
    alias = ALIASES.get(key)
    if alias is not None and fold(alias) in by_fold:
        return by_fold[fold(alias)]
    english = [ENGLISH[v] for v in values if v in ENGLISH and ENGLISH[v] not in by_fold]
    hint = f" (English: {', '.join(english)})" if english else ""
    raise keyed(UsageError(f"{option} {str(value)!r} is not allowed; use one of: "
                           f"{', '.join(values)}{hint}"),
                "not_allowed", option=option, value=repr(str(value)), allowed=", ".join(values),
                words=", ".join(english))

