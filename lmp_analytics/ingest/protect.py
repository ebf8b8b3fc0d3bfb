"""Protect pupils at the door: drop names and free text, pseudonymise ids with a keyed hash.

A pupil id becomes ``HMAC-SHA256(key, normalised id)``, cut to 20 hex characters (80 bits: the
chance of two of ten million pupils colliding is below 1e-10). The key never enters the warehouse;
without it a pseudonym cannot be linked back to a Feide id, and with a different key (one per
research project) the same pupil gets an unlinkable pseudonym.

After ``lmp rekey`` a key is a *chain* of secrets, one per line of the key file (oldest first):
the pseudonym is the first secret's pseudonym, pseudonymised again with each later secret
(``HMAC(k2, HMAC(k1, id)[:20])[:20]``). A chain is passed around as its secrets joined by a
newline; a one-line key file gives exactly the bytes of its one secret, as before.

The warehouse records which key made its pseudonyms as a fingerprint: the chain applied to a
fixed label (:func:`key_fingerprint`), which identifies the key without revealing it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

import polars as pl

from lmp_analytics.config import key_file_path
from lmp_analytics.errors import KeyMissingError
from lmp_analytics.presentation.messages import message, refusal

PSEUDONYM_HEX_CHARS = 20
MIN_KEY_CHARS = 32
NOMINATION_SEPARATOR = "|"
DROPPED_EXACT = {"elev_navn", "navn", "fornavn", "etternavn", "fodselsnummer", "personnummer"}
DROPPED_PREFIXES = ("fritekst",)
KEY_SEPARATOR = b"\n"
FINGERPRINT_LABEL = "lmp_analytics pseudonym key fingerprint v1"


def generate_key() -> str:
    """A fresh random key (64 hex characters, 256 bits)."""
    return secrets.token_hex(32)


def write_key_file(path: Path, *, overwrite: bool = False) -> Path:
    """Create a key file readable only by its owner (0600). Refuses to overwrite by default."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{path} exists already; a new key would make every pseudonym in an existing "
            "warehouse unlinkable. Use --force only if that is what you want."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(generate_key() + "\n")
    os.chmod(path, 0o600)
    return path


def _checked_secrets(lines: list[str], where: str) -> bytes:
    secrets_ = [line.strip() for line in lines if line.strip()]
    if not secrets_:
        raise refusal(KeyMissingError, "key_empty", where=where)
    for secret in secrets_:
        if len(secret) < MIN_KEY_CHARS:
            raise refusal(KeyMissingError, "key_short", where=where, n=MIN_KEY_CHARS)
    return KEY_SEPARATOR.join(s.encode("utf-8") for s in secrets_)


def read_key_file(path: str | os.PathLike[str]) -> bytes:
    """The key (one secret, or a chain after ``lmp rekey``) in a key file; tightened to 0600."""
    path = Path(path)
    if not path.exists():
        raise refusal(KeyMissingError, "key_missing", path=path)
    if path.is_dir():
        raise refusal(KeyMissingError, "key_folder", path=path)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        os.chmod(path, 0o600)
    try:  # UTF-8 like LMP_PSEUDONYM_KEY (an ASCII key gives the same bytes as before)
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise refusal(KeyMissingError, "key_not_utf8", path=path) from None
    return _checked_secrets(text.splitlines(), str(path))


def load_key(key_file: str | os.PathLike[str] | None = None) -> bytes:
    """The pseudonym key: ``LMP_PSEUDONYM_KEY``, else a key file; KeyMissingError if neither."""
    env = os.environ.get("LMP_PSEUDONYM_KEY")
    if env and env.strip():
        return _checked_secrets(env.splitlines(), "LMP_PSEUDONYM_KEY")
    return read_key_file(key_file_path(key_file))


def key_source(key_file: str | os.PathLike[str] | None = None) -> str:
    """Where :func:`load_key` takes the key from, for messages (never the key itself)."""
    env = os.environ.get("LMP_PSEUDONYM_KEY")
    if env and env.strip():
        return message("refusal.source_env")
    path = key_file_path(key_file)
    if key_file is None and os.environ.get("LMP_PSEUDONYM_KEY_FILE"):
        return message("refusal.source_file_env", path=path)
    return message("refusal.source_file", path=path)


def key_chain(key: bytes) -> list[bytes]:
    """The secrets of a key, oldest first (one for a key that was never rotated)."""
    return [k for k in key.split(KEY_SEPARATOR) if k]


def key_fingerprint(key: bytes) -> str:
    """A keyed digest of a fixed label (64 hex characters): the same for the same key (chain),
    different for any other, and of no use for finding the key or any pseudonym."""
    value = FINGERPRINT_LABEL
    for secret in key_chain(key):
        value = hmac.new(secret, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return value


def normalise_pupil_id(raw: str) -> str:
    """Ids are compared without surrounding space and case (Feide ids are case-insensitive)."""
    return raw.strip().casefold()


def pseudonym(key: bytes, raw_id: str) -> str:
    """Keyed pseudonym of one pupil id (through every secret of a rotated key)."""
    value = normalise_pupil_id(raw_id)
    for secret in key_chain(key):
        value = hmac.new(secret, value.encode("utf-8"), hashlib.sha256).hexdigest()
        value = value[:PSEUDONYM_HEX_CHARS]
    return value


def repseudonym(secret: bytes, old: str) -> str:
    """An existing pseudonym carried over to a key chain extended by ``secret`` (``lmp rekey``):
    equal to :func:`pseudonym` with the extended chain for the same raw id."""
    return pseudonym(secret, old)


class Pseudonymiser:
    """:func:`pseudonym` for many ids: each distinct raw id is hashed once per instance (keep one
    for a whole ingest run), with the key's HMAC pads computed once."""

    _BLOCK = 64  # SHA-256 block size (RFC 2104)

    def __init__(self, key: bytes) -> None:
        self._pads = []
        for secret in key_chain(key):
            block = hashlib.sha256(secret).digest() if len(secret) > self._BLOCK else secret
            block = block.ljust(self._BLOCK, b"\0")
            self._pads.append((hashlib.sha256(bytes(b ^ 0x36 for b in block)).copy,
                               hashlib.sha256(bytes(b ^ 0x5C for b in block)).copy))
        self._known: dict[str, str | None] = {}  # raw id -> pseudonym (None: blank id)

    def _hash(self, raws: list[str]) -> list[str | None]:
        pads, out = self._pads, []
        for raw in raws:
            if not raw.strip():  # a blank id is no pupil
                out.append(None)
                continue
            value = normalise_pupil_id(raw)
            for inner, outer in pads:
                h = inner()
                h.update(value.encode("utf-8"))
                o = outer()
                o.update(h.digest())
                value = o.hexdigest()[:PSEUDONYM_HEX_CHARS]
            out.append(value)
        return out

    def _mapping(self, uniques: list[str]) -> dict[str, str]:
        known = self._known
        new = [raw for raw in uniques if raw not in known]
        known.update(zip(new, self._hash(new), strict=True))
        return {raw: known[raw] for raw in uniques if known[raw] is not None}

    def column(self, values: pl.Series) -> pl.Series:
        """Pseudonymise a text column; nulls and blank ids stay null. The lookup joins the column
        to its own distinct ids only (not to every id seen in the run)."""
        mapping = self._mapping(values.drop_nulls().unique().to_list())
        table = pl.DataFrame({"raw": list(mapping), "pseudonym": list(mapping.values())},
                             schema={"raw": pl.String, "pseudonym": pl.String})
        return pl.DataFrame({"raw": values}).join(
            table, on="raw", how="left", maintain_order="left"
        ).get_column("pseudonym").alias(values.name)

    def nominations(self, values: pl.Series) -> pl.Series:
        """``'id1|id2'`` -> ``'p1|p2'``."""
        exploded = values.str.split(NOMINATION_SEPARATOR).list.eval(
            pl.element().str.strip_chars().filter(pl.element() != "")
        )
        flat = exploded.explode().drop_nulls().unique()
        mapping = self._mapping(flat.to_list())
        hashed = exploded.list.eval(pl.element().replace_strict(mapping, return_dtype=pl.String))
        joined = hashed.list.join(NOMINATION_SEPARATOR)
        return pl.select(
            pl.when(joined == "").then(None).otherwise(joined)
        ).to_series().alias(values.name)


def identifying_columns(columns: list[str]) -> list[str]:
    """Columns that may never be stored: names and free text."""
    return [c for c in columns if c in DROPPED_EXACT or c.startswith(DROPPED_PREFIXES)]


def pseudonymise_cells(data: pl.DataFrame, pseudo: Pseudonymiser,
                       nomination_cols: list[str]) -> pl.DataFrame:
    """The cells with ``elev_id`` replaced by ``elev`` (its pseudonym) and the nomination columns
    pseudonymised: no raw id is left for any later step to read."""
    data = data.with_columns(pseudo.column(data.get_column("elev_id")).alias("elev")).drop(
        "elev_id")
    for col in nomination_cols:
        data = data.with_columns(pseudo.nominations(data.get_column(col)))
    return data
