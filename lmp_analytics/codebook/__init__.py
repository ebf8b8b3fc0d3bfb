"""Codebooks: one TOML file per Spekter instrument version, loaded and checked at start.

The codebook is data, not code: items, answer scales (labels -> codes), modules, indicator
definitions and which items are negative nominations. Replacing a file with the official item
list needs no code change. A broken file raises :class:`~lmp_analytics.errors.CodebookError`
naming the file and the entry.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lmp_analytics.config import CODEBOOK_DIR
from lmp_analytics.errors import CodebookError

NOMINATION_SCALE = "nominasjon"

NEGATIVE_NOMINATION_RULE_DATE = dt.date(2021, 8, 1)
"""From this day, naming pupils in negative relations (who bullies, who is bullied, who makes
noise, who bullies digitally) is lawful only in a survey run on concrete suspicion. The revised
forskrift til opplæringslova on non-anonymous surveys took effect 1 August 2021 (Spekter Digital,
"Revidert forskrift til opplæringsloven vedr. bruk av ikke-anonyme undersøkelser", 26.08.2021:
"trådte i kraft 01.08.21"; the underlying law change, Prop. 145 L (2020–2021), took effect the
same day according to Prop. 57 L (2022–2023) ch. 54). A later UiS article dates the new forskrift
1 August 2022; the contemporaneous notice is followed here (see reference/SOURCES.md)."""
NEGATIVE_NOMINATION_RULE_NB = (
    "revidert forskrift til opplæringslova om ikke-anonyme undersøkelser (i kraft 1. august "
    "2021)")
_DASHES = re.compile(r"[\-\u2010\u2011\u2012\u2013\u2014\u2212]")
_SPACES = re.compile(r"\s+")


def normalise_label(text: str) -> str:
    """Case-, whitespace- and dash-insensitive form of an answer label or column name."""
    return _SPACES.sub(" ", _DASHES.sub(" ", str(text)).casefold()).strip()


@dataclass(frozen=True)
class ScaleLabel:
    """One answer option: its numeric code and its labels."""

    code: int
    nb: str
    en: str


@dataclass(frozen=True)
class Scale:
    """An answer scale (``hyppighet``, ``enighet``, ``janei``)."""

    id: str
    description: str
    labels: tuple[ScaleLabel, ...]

    @property
    def codes(self) -> tuple[int, ...]:
        return tuple(label.code for label in self.labels)

    def label_map(self) -> dict[str, int]:
        """Normalised label (nb and en) and code text -> code."""
        out: dict[str, int] = {}
        for label in self.labels:
            out[normalise_label(label.nb)] = label.code
            out[normalise_label(label.en)] = label.code
            out[str(label.code)] = label.code
        return out


@dataclass(frozen=True)
class Item:
    """One question of an instrument version."""

    code: str
    scale: str
    module: str
    higher_is_better: bool
    wording_nb: str
    wording_en: str
    wording_nn: str = ""
    negative_nomination: bool = False
    asked_when: str | None = None

    @property
    def is_nomination(self) -> bool:
        return self.scale == NOMINATION_SCALE


@dataclass(frozen=True)
class Indicator:
    """An indicator computed from items.

    ``share``: respondents with value >= ``threshold`` on any answered item among those who
    answered at least one. ``scale``: mean of answered items (``reversed`` items as 6 - x) for
    respondents who answered at least ``min_items``; also the share with mean >= ``top_threshold``.
    """

    id: str
    kind: str
    items: tuple[str, ...]
    label_nb: str
    label_en: str
    higher_is_better: bool
    headline: bool = False
    label_nn: str = ""
    threshold: int | None = None
    reversed: tuple[str, ...] = ()
    min_items: int | None = None
    top_threshold: float | None = None

    def label(self, lang: str = "nb") -> str:
        """The indicator's name in ``lang`` (nb, nn or en; nynorsk falls back to bokmål)."""
        if lang == "nn":
            return self.label_nn or self.label_nb
        return self.label_en if lang == "en" else self.label_nb


@dataclass(frozen=True)
class Codebook:
    """One instrument version."""

    version: str
    formal: str
    description: str
    modules: tuple[str, ...]
    scales: dict[str, Scale]
    items: dict[str, Item]
    indicators: dict[str, Indicator]
    source: Path

    @property
    def answer_items(self) -> list[Item]:
        return [item for item in self.items.values() if not item.is_nomination]

    @property
    def nomination_items(self) -> list[Item]:
        return [item for item in self.items.values() if item.is_nomination]

    @property
    def negative_nomination_items(self) -> list[Item]:
        """Nominations that name pupils in negative relations (only lawful on suspicion)."""
        return [item for item in self.items.values() if item.negative_nomination]


def _require(entry: dict, key: str, where: str, path: Path):
    if key not in entry:
        raise CodebookError(f"{path}: {where} lacks the required key '{key}'")
    return entry[key]


def _parse(path: Path) -> Codebook:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CodebookError(f"{path}: cannot read codebook: {exc}") from exc
    version = _require(raw, "version", "the file", path)
    if path.stem != version:
        raise CodebookError(f"{path}: file name must equal its version id '{version}'")
    formal = _require(raw, "formal", "the file", path)
    if formal not in ("forebyggende", "mistanke"):
        raise CodebookError(f"{path}: formal must be 'forebyggende' or 'mistanke', got {formal!r}")
    modules = tuple(_require(raw, "modules", "the file", path))

    scales: dict[str, Scale] = {}
    for entry in raw.get("scale", []):
        sid = _require(entry, "id", "a [[scale]]", path)
        labels = tuple(
            ScaleLabel(
                int(_require(lab, "code", f"scale '{sid}' label", path)),
                _require(lab, "nb", f"scale '{sid}' label", path),
                lab.get("en", lab["nb"]),
            )
            for lab in _require(entry, "labels", f"scale '{sid}'", path)
        )
        if len({lab.code for lab in labels}) != len(labels):
            raise CodebookError(f"{path}: scale '{sid}' repeats a code")
        scales[sid] = Scale(sid, entry.get("description", ""), labels)

    items: dict[str, Item] = {}
    for entry in raw.get("item", []):
        code = _require(entry, "code", "an [[item]]", path)
        if code in items:
            raise CodebookError(f"{path}: item '{code}' is defined twice")
        scale = _require(entry, "scale", f"item '{code}'", path)
        if scale != NOMINATION_SCALE and scale not in scales:
            raise CodebookError(f"{path}: item '{code}' uses unknown scale '{scale}'")
        module = _require(entry, "module", f"item '{code}'", path)
        if scale != NOMINATION_SCALE and module not in modules:
            raise CodebookError(f"{path}: item '{code}' is in unknown module '{module}'")
        negative = bool(entry.get("negative_nomination", False))
        if negative and version.endswith("forebyggende"):
            raise CodebookError(
                f"{path}: item '{code}' is a negative nomination, which the preventive "
                "version may not contain"
            )
        items[code] = Item(
            code=code,
            scale=scale,
            module=module,
            higher_is_better=bool(entry.get("higher_is_better", True)),
            wording_nb=_require(entry, "wording_nb", f"item '{code}'", path),
            wording_en=entry.get("wording_en", entry["wording_nb"]),
            wording_nn=entry.get("wording_nn", entry["wording_nb"]),
            negative_nomination=negative,
            asked_when=entry.get("asked_when"),
        )

    indicators: dict[str, Indicator] = {}
    for entry in raw.get("indicator", []):
        iid = _require(entry, "id", "an [[indicator]]", path)
        kind = _require(entry, "kind", f"indicator '{iid}'", path)
        if kind not in ("share", "scale"):
            raise CodebookError(f"{path}: indicator '{iid}' has unknown kind '{kind}'")
        its = tuple(_require(entry, "items", f"indicator '{iid}'", path))
        for it in its:
            if it not in items or items[it].is_nomination:
                raise CodebookError(f"{path}: indicator '{iid}' uses unknown item '{it}'")
        rev = tuple(entry.get("reversed", ()))
        if not set(rev) <= set(its):
            raise CodebookError(f"{path}: indicator '{iid}' reverses an item it does not use")
        if kind == "share" and "threshold" not in entry:
            raise CodebookError(f"{path}: share indicator '{iid}' needs a threshold")
        if kind == "scale" and "min_items" not in entry:
            raise CodebookError(f"{path}: scale indicator '{iid}' needs min_items")
        indicators[iid] = Indicator(
            id=iid,
            kind=kind,
            items=its,
            label_nb=_require(entry, "label_nb", f"indicator '{iid}'", path),
            label_en=entry.get("label_en", entry["label_nb"]),
            label_nn=entry.get("label_nn", entry["label_nb"]),
            higher_is_better=bool(entry.get("higher_is_better", True)),
            headline=bool(entry.get("headline", False)),
            threshold=entry.get("threshold"),
            reversed=rev,
            min_items=entry.get("min_items"),
            top_threshold=entry.get("top_threshold"),
        )
    if not items:
        raise CodebookError(f"{path}: the codebook defines no items")
    return Codebook(
        version=version,
        formal=formal,
        description=raw.get("description", ""),
        modules=modules,
        scales=scales,
        items=items,
        indicators=indicators,
        source=path,
    )


@cache
def load_codebooks(directory: Path = CODEBOOK_DIR) -> dict[str, Codebook]:
    """Every codebook in ``directory``, keyed by version id."""
    paths = sorted(Path(directory).glob("*.toml"))
    if not paths:
        raise CodebookError(f"{directory}: no codebook files (*.toml) found")
    books = [_parse(p) for p in paths]
    return {b.version: b for b in books}


def load_codebook(version: str, directory: Path = CODEBOOK_DIR) -> Codebook:
    """The codebook of one instrument version; CodebookError if unknown."""
    books = load_codebooks(directory)
    if version not in books:
        known = ", ".join(sorted(books))
        raise CodebookError(f"unknown instrument version '{version}'; known versions: {known}")
    return books[version]


def indicator_ids(directory: Path = CODEBOOK_DIR) -> list[str]:
    """Every indicator id defined by any version, in first-seen order."""
    seen: dict[str, None] = {}
    for book in load_codebooks(directory).values():
        for iid in book.indicators:
            seen.setdefault(iid, None)
    return list(seen)
