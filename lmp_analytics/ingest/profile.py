"""Mapping profiles: how an export in an unfamiliar shape maps onto the codebook.

A profile is an editable TOML file (made by ``lmp inspect``, see :mod:`lmp_analytics.ingest.
inspect`) that names the codebook version, which column of the file is which item (or contract
column), and which answer label means which code, per item::

    codebook = "spekter-2022-forebyggende"

    [columns]
    "Jeg trives på skolen." = "trivsel"

    [labels.mobbet]
    "2-3 ganger i måneden" = 3

:func:`load_profile` checks it against the codebook when it is read (unknown item ids, an item
mapped from two columns, a label mapped to two codes are :class:`ProfileError`, naming the file
and the entry). :func:`apply_profile` renames and recodes a read table before mapping, so that
every rule of the data contract then applies to it as to a file in the contract layout.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from lmp_analytics.codebook import Codebook, load_codebooks, normalise_label
from lmp_analytics.errors import LmpError, keyed
from lmp_analytics.ingest.mapping import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from lmp_analytics.ingest.readers import RawTable, normalise_column
from lmp_analytics.presentation.messages import message, rejection

#: Columns of the data contract a profile may map a column to (besides the codebook's items).
CONTRACT_COLUMNS = tuple(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)


class ProfileError(LmpError):
    """A mapping profile that cannot be used (exit code 2); the message names file and entry."""


@dataclass(frozen=True)
class MappingProfile:
    """A loaded, checked profile. ``columns``: normalised column name -> target (item id or
    contract column); ``labels``: item -> normalised label -> code."""

    source: Path
    codebook: str
    columns: dict[str, str] = field(default_factory=dict)
    labels: dict[str, dict[str, int]] = field(default_factory=dict)
    formal: str | None = None
    """The codebook version's purpose (``forebyggende``/``mistanke``)."""


def _fail(path: Path, key: str, **values: object) -> ProfileError:
    """The refusal ``cli.profile.<key>`` of the profile at ``path`` (keyed for the CLI)."""
    why = message(f"profile.{key}", **values)
    return keyed(ProfileError(str(message("profile.refused", path=path, why=why))),
                 "profile.refused", path=path, why=why)


def load_profile(path: str | Path, books: dict[str, Codebook] | None = None) -> MappingProfile:
    """Read and check the profile at ``path``; :class:`ProfileError` names the bad entry."""
    path = Path(path)
    books = books if books is not None else load_codebooks()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise _fail(path, "missing") from exc
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _fail(path, "not_toml", detail=exc) from exc
    unknown = sorted(set(raw) - {"codebook", "columns", "labels"})
    if unknown:
        raise _fail(path, "unknown_entry", entry=unknown[0])
    version = raw.get("codebook")
    if not isinstance(version, str) or version not in books:
        raise _fail(path, "unknown_codebook", version=repr(version),
                    known=", ".join(sorted(books)))
    book = books[version]
    targets = set(book.items) | set(CONTRACT_COLUMNS)
    columns: dict[str, str] = {}
    mapped_from: dict[str, str] = {}
    headers: dict[str, str] = {}
    for header, target in _table(raw, "columns", path).items():
        if not isinstance(target, str) or target not in targets:
            raise _fail(path, "not_a_target", header=header, target=repr(target),
                        version=version)
        if target in mapped_from:
            raise _fail(path, "mapped_twice", target=target, first=mapped_from[target],
                        header=header)
        key = normalise_column(header)
        if key in columns:
            raise _fail(path, "same_column", first=headers[key], header=header)
        headers[key] = header
        mapped_from[target] = header
        columns[key] = target
    labels: dict[str, dict[str, int]] = {}
    for item, entries in _table(raw, "labels", path).items():
        if item not in book.items or book.items[item].is_nomination:
            raise _fail(path, "not_an_answer_item", item=item, version=version)
        if not isinstance(entries, dict):
            raise _fail(path, "labels_not_a_table", item=item)
        codes = book.scales[book.items[item].scale].codes
        seen: dict[str, tuple[str, int]] = {}
        for label, code in entries.items():
            if isinstance(code, bool) or not isinstance(code, int) or code not in codes:
                raise _fail(path, "code_not_in_scale", item=item, label=label, code=repr(code),
                            scale=book.items[item].scale, codes=str(list(codes)))
            key = normalise_label(label)
            if key in seen and seen[key][1] != code:
                raise _fail(path, "label_twice", item=item, label=label, first=seen[key][1],
                            spelled=seen[key][0], code=code)
            seen[key] = (label, code)
        labels[item] = {key: code for key, (_, code) in seen.items()}
    return MappingProfile(path, version, columns, labels, book.formal)


def _table(raw: dict, name: str, path: Path) -> dict:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise _fail(path, "not_a_table", name=name)
    return value


def apply_profile(table: RawTable, profile: MappingProfile) -> RawTable:
    """``table`` with the profile's columns renamed, labels recoded to codes and, when the file
    has no ``versjon`` column, the profile's codebook version as its version (and that version's
    ``formal`` when the file has none either). FileRejected when
    a renamed column would collide with a column the file already has."""
    frame = table.frame
    rename: dict[str, str] = {}
    for name in frame.columns:
        target = profile.columns.get(name)
        if target is None or target == name:
            continue
        if target in frame.columns and profile.columns.get(target, target) == target:
            original = table.original_columns.get(name, name)
            raise rejection(table.path, "profile_collision", profile=profile.source,
                            target=target, column=original)
        rename[name] = target
    originals = {rename.get(n, n): table.original_columns.get(n, n) for n in frame.columns}
    frame = frame.rename(rename)
    recode = []
    for item, labels in profile.labels.items():
        if item not in frame.columns:
            continue
        values = frame.get_column(item).drop_nulls().unique().to_list()
        mapping = {v: str(labels[normalise_label(v)]) for v in values
                   if normalise_label(v) in labels}
        if mapping:
            recode.append(pl.col(item).replace(mapping))
    if recode:
        frame = frame.with_columns(recode)
    if "versjon" not in frame.columns:  # the version, and the purpose that goes with it
        added = {"versjon": profile.codebook}
        if "formal" not in frame.columns and profile.formal:
            added["formal"] = profile.formal
        frame = frame.with_columns(pl.lit(v, dtype=pl.String).alias(k) for k, v in added.items())
        originals.update({k: f"{k} (from {profile.source.name})" for k in added})
    return RawTable(
        path=table.path, frame=frame, file_format=table.file_format, encoding=table.encoding,
        delimiter=table.delimiter, first_row=table.first_row, original_columns=originals,
        warnings=list(table.warnings), lines=table.lines, head=table.head,
        duplicates=table.duplicates, header_line=table.header_line)


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML)."""
    return json.dumps(text, ensure_ascii=False)


def profile_text(codebook: str, columns: list[tuple[str, str | None, str]],
                 labels: dict[str, list[tuple[str, int | None, str]]], header: str) -> str:
    """The TOML text of a profile. ``columns``: (header, target or None, comment); ``labels``:
    item -> (label, code or None, comment). Entries without a target are written commented out
    so that nothing is guessed and a person sees what to fill in."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += ["", f"codebook = {_toml_string(codebook)}", "", "[columns]"]
    for head, target, note in columns:
        entry = f"{_toml_string(head)} = {_toml_string(target or '')}"
        lines.append((entry if target else f"# {entry}") + (f"  # {note}" if note else ""))
    for item, entries in labels.items():
        lines += ["", f"[labels.{item}]"]
        for label, code, note in entries:
            entry = f"{_toml_string(label)} = {code if code is not None else '?'}"
            lines.append((entry if code is not None else f"# {entry}")
                         + (f"  # {note}" if note else ""))
    return "\n".join(lines) + "\n"
