"""Match an unfamiliar export to the codebook and propose a mapping profile (``lmp inspect``).

Headers are matched to items by exact item id, by the item's Norwegian question text (case,
punctuation, white space and æ/ø/å spelling ignored) and, failing that, by the closest question
text (:mod:`difflib`, ratio >= :data:`HEADER_CUTOFF`, and clearly closer than the runner-up).
Answer labels are matched to the item's scale the same way (:data:`LABEL_CUTOFF`). What does not
match is reported with its count and written commented out in the profile: never guessed.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from lmp_analytics.codebook import Codebook, normalise_label
from lmp_analytics.ingest.profile import CONTRACT_COLUMNS, profile_text
from lmp_analytics.ingest.protect import identifying_columns
from lmp_analytics.ingest.readers import RawTable, normalise_column
from lmp_analytics.presentation.messages import message

HEADER_CUTOFF = 0.85
"""Smallest difflib ratio for a header to match a question text it is not equal to."""
LABEL_CUTOFF = 0.8
"""Smallest difflib ratio for an answer label to match a scale label it is not equal to."""
MARGIN = 0.05
"""A close match must beat the runner-up by this much, else it is ambiguous (not matched)."""
_PUNCT = re.compile(r"[\W_]+")


def text_key(text: str) -> str:
    """``'Jeg  trives på skolen!'`` -> ``'jeg trives pa skolen'``: what matching compares."""
    return " ".join(_PUNCT.sub(" ", normalise_column(text)).split())


def _closest(key: str, candidates: Sequence[str], cutoff: float) -> tuple[str | None, float]:
    """The candidate closest to ``key`` (ratio >= cutoff, beating the runner-up by MARGIN)."""
    scored = sorted(((difflib.SequenceMatcher(None, key, c).ratio(), c) for c in candidates),
                    reverse=True)
    if not scored or scored[0][0] < cutoff:
        return None, scored[0][0] if scored else 0.0
    if len(scored) > 1 and scored[0][0] - scored[1][0] < MARGIN:
        return None, scored[0][0]
    return scored[0][1], scored[0][0]


@dataclass
class LabelMatch:
    """One distinct answer value of a column: its count and the code it maps to (None: no match)."""

    value: str
    count: int
    code: int | None
    how: str  # "kode", "etikett", "nær (0.91)", "ingen"
    as_is: bool = False
    """The ingest reads this value without a profile (a code, or a label as the contract has it)."""


@dataclass
class ColumnMatch:
    """One column of the file and what it is."""

    header: str
    target: str | None
    how: str  # "id", "kontrakt", "tekst", "nær (0.93)", "fjernes", "ingen"
    labels: list[LabelMatch] = field(default_factory=list)
    match: str = ""
    """What ``how`` says, for a person: a :class:`~lmp_analytics.errors.Message` keyed
    ``cli.insp_how.*`` (English text; the CLI says it in ``LMP_LANG``)."""

    def __post_init__(self) -> None:
        if not self.match:
            self.match = _match_text(self.how)

    @property
    def unmatched_labels(self) -> list[LabelMatch]:
        return [label for label in self.labels if label.code is None]


@dataclass
class Inspection:
    """What :func:`inspect_tables` found: the codebook version and every column's match."""

    codebook: str
    version_note: str
    columns: list[ColumnMatch]

    @property
    def complete(self) -> bool:
        """Every column and every label matched (nothing left for a person to decide)."""
        return all(c.target is not None or c.how == "fjernes" for c in self.columns) and not any(
            c.unmatched_labels for c in self.columns)

    def profile(self, files: Sequence[str]) -> str:
        """The TOML text of the proposed profile."""
        columns = []
        labels: dict[str, list[tuple[str, int | None, str]]] = {}
        for col in self.columns:
            if col.how in ("kontrakt", "fjernes") or (col.how == "id"):
                continue  # already read as the contract says
            note = "" if col.target else "ingen treff: skriv inn en item-id, eller la stå"
            columns.append((col.header, col.target, note if not col.target else col.how))
            if col.target:
                labels[col.target] = [
                    (lab.value, lab.code, "" if lab.code is not None
                     else f"ingen treff ({lab.count} svar): skriv inn koden")
                    for lab in col.labels if lab.how != "kode"]
        for col in self.columns:  # item-id columns: only the labels the ingest cannot read
            variants = [lab for lab in col.labels if not lab.as_is]
            if col.how == "id" and variants:
                labels[col.target] = [(lab.value, lab.code, "" if lab.code is not None else
                                       f"ingen treff ({lab.count} svar): skriv inn koden")
                                      for lab in variants]
        header = ("Mapping profile made by `lmp inspect` from: " + ", ".join(files) + "\n"
                  f"codebook: {self.version_note}\n"
                  "Edit freely; use it with `lmp ingest --profile FILE` / `lmp validate "
                  "--profile FILE`.")
        return profile_text(self.codebook, columns, {k: v for k, v in labels.items() if v},
                            header)


def _match_text(how: str) -> str:
    """The keyed text of a column's ``how`` (``nær (0.93)``: close, with its ratio)."""
    if how.startswith("nær ("):
        return message("insp_how.close", ratio=how[len("nær ("):-1])
    kinds = {"id": "id", "kontrakt": "contract", "tekst": "text", "fjernes": "dropped",
             "ingen": "none"}
    return message(f"insp_how.{kinds[how]}") if how in kinds else how


def _columns_and_values(tables: Sequence[RawTable]) -> tuple[dict[str, str], dict[str, Counter]]:
    headers: dict[str, str] = {}
    values: dict[str, Counter] = {}
    for table in tables:
        for name in table.frame.columns:
            headers.setdefault(name, table.original_columns.get(name, name))
            counts = values.setdefault(name, Counter())
            for value, n in table.frame.get_column(name).drop_nulls().value_counts().iter_rows():
                if value.strip():  # an empty cell is a skipped answer, not a label
                    counts[value] += n
    return headers, values


def _choose_version(found: set[str], values: dict[str, Counter],
                    books: dict[str, Codebook]) -> tuple[str, str]:
    named = [v for v in values.get("versjon", Counter()) if v in books]
    if len(named) == 1:
        return named[0], message("insp_how.version_named")

    def fit(version: str) -> tuple[int, int]:
        items = set(books[version].items)
        return len(found & items), -len(items - found)

    best = max(sorted(books), key=fit)
    return best, message("insp_how.version_guessed", n=fit(best)[0], version=best)


def _match_labels(counts: Counter, book: Codebook, item: str) -> list[LabelMatch]:
    scale = book.scales[book.items[item].scale]
    exact = {text_key(lab.nb): lab.code for lab in scale.labels}
    exact.update({text_key(lab.en): lab.code for lab in scale.labels})
    readable = scale.label_map()
    out = []
    for value, n in counts.items():
        key = text_key(value)
        if re.fullmatch(r"\d+(\.0+)?", value.strip()) and int(float(value)) in scale.codes:
            out.append(LabelMatch(value, n, int(float(value)), "kode", as_is=True))
        elif key in exact:
            out.append(LabelMatch(value, n, exact[key], "etikett",
                                  as_is=normalise_label(value) in readable))
        else:
            best, ratio = _closest(key, list(exact), LABEL_CUTOFF)
            out.append(LabelMatch(value, n, exact[best] if best else None,
                                  f"nær ({ratio:.2f})" if best else "ingen"))
    return sorted(out, key=lambda m: (m.code is None, m.code or 0, m.value))


def inspect_tables(tables: Sequence[RawTable], books: dict[str, Codebook]) -> Inspection:
    """Match the columns (and answer labels) of ``tables`` to the codebooks."""
    headers, values = _columns_and_values(tables)
    wordings: dict[str, str] = {}
    item_ids: set[str] = set()
    for book in books.values():
        for item in book.items.values():
            for wording in (item.wording_nb, item.wording_nn):  # bokmål and nynorsk exports
                if wording:
                    wordings.setdefault(text_key(wording), item.code)
            item_ids.add(item.code)
    dropped = set(identifying_columns(list(headers)))
    matches: list[ColumnMatch] = []
    for name, header in headers.items():
        if name in CONTRACT_COLUMNS:
            matches.append(ColumnMatch(header, name, "kontrakt"))
        elif name in dropped:
            matches.append(ColumnMatch(header, None, "fjernes"))
        elif name in item_ids:
            matches.append(ColumnMatch(header, name, "id"))
        elif text_key(header) in wordings:
            matches.append(ColumnMatch(header, wordings[text_key(header)], "tekst"))
        else:
            best, ratio = _closest(text_key(header), list(wordings), HEADER_CUTOFF)
            matches.append(ColumnMatch(header, wordings[best] if best else None,
                                       f"nær ({ratio:.2f})" if best else "ingen"))
    taken: Counter = Counter(m.target for m in matches if m.target)
    for m in matches:  # two columns for one item: neither is guessed
        if m.target and taken[m.target] > 1 and m.how != "kontrakt":
            m.how = f"ingen ({taken[m.target]} kolonner passer '{m.target}')"
            m.match = message("insp_how.ambiguous", n=taken[m.target], item=m.target)
            m.target = None
    found = {m.target for m in matches if m.target}
    version, note = _choose_version(found, values, books)
    book = books[version]
    for name, m in zip(headers, matches, strict=True):
        if m.target in book.items and not book.items[m.target].is_nomination:
            m.labels = _match_labels(values[name], book, m.target)
        elif m.target and m.target in item_ids and m.target not in book.items:
            m.match = message("insp_how.not_in_version", item=m.target, version=version)
            m.target, m.how = None, f"ingen (item '{m.target}' finnes ikke i {version})"
    return Inspection(version, note, matches)
