"""Planned key rotation (``lmp rekey``): every pseudonym re-pseudonymised with a new secret, in
one atomic publish.

A pseudonym cannot be turned back into the pupil's id, so the warehouse cannot hash the ids
again with a new key. Instead the key becomes a chain: every stored pseudonym ``p`` becomes
``pseudonym(new_secret, p)``, and the new key file holds the old key's secrets followed by the
new one (:mod:`lmp_analytics.ingest.protect` hashes an id through the whole chain), so the next
ingest gives the same pupil the same pseudonym. After the rotation the old key file alone no
longer links the warehouse's pseudonyms to ids; the new key file is the one to keep (it holds
everything needed, the old secrets included).

Order (each step refuses or leaves the old state intact when it fails):

1. The old key must be the warehouse's recorded key (fingerprint), else KeyMismatchError.
2. The new key file is written (0600) before the warehouse is published. If it existed, it must
   hold one secret (from ``lmp keygen``), which becomes the new secret; otherwise a fresh secret
   is made. If the publish then fails, the key file is put back as it was.
3. In one write session: every pseudonym column (``fct_response.elev``, ``fct_answer.elev``,
   ``fct_nomination.elev`` and ``.nominee``, pupil-id and nomination cells of ``quarantine``)
   is mapped to the new pseudonyms, the derived tables are rebuilt, the check that no old
   pseudonym is left in any of them passes, the new fingerprint is recorded and the run is
   audited; then the warehouse is published.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from lmp_analytics.codebook import load_codebooks
from lmp_analytics.config import warehouse_path
from lmp_analytics.errors import KeyMismatchError, KeyMissingError, WarehouseError
from lmp_analytics.ingest import protect
from lmp_analytics.presentation.messages import message, refusal
from lmp_analytics.warehouse import audit, meta
from lmp_analytics.warehouse.load import rebuild_rounds
from lmp_analytics.warehouse.publish import write_session
from lmp_analytics.warehouse.queries import named

Rebuild = Callable[[duckdb.DuckDBPyConnection], None]


@dataclass(frozen=True)
class RekeyResult:
    """``pupils``: distinct pseudonyms re-pseudonymised; ``key_file``: the new key file."""

    pupils: int
    key_file: Path
    old_fingerprint: str
    new_fingerprint: str


def _q(name: str) -> str:
    return named("rekey", name)


def _nomination_columns() -> list[str]:
    return sorted({i.code for b in load_codebooks().values() for i in b.nomination_items})


def _new_secret(path: Path, old: bytes) -> tuple[bytes, bytes | None]:
    """The new secret (from ``path`` when it exists, else fresh) and ``path``'s old content."""
    if not path.exists():
        return protect.generate_key().encode("ascii"), None
    before = path.read_bytes()
    chain = protect.key_chain(protect.read_key_file(path))
    if len(chain) != 1:
        raise refusal(KeyMissingError, "key_chain_already", path=path)
    if chain[0] in protect.key_chain(old):
        raise refusal(KeyMissingError, "key_in_use", path=path)
    return chain[0], before


def _write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` (0600) through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _mapping(con: duckdb.DuckDBPyConnection, secret: bytes) -> pl.DataFrame:
    """(old, new) for every distinct pseudonym the warehouse holds."""
    con.register("rekey_nomination_columns",
                 pl.DataFrame({"column_name": _nomination_columns()}, schema={
                     "column_name": pl.String}))
    try:
        old = con.sql(_q("distinct_pseudonyms")).pl().get_column("old")
    finally:
        con.unregister("rekey_nomination_columns")
    new = protect.Pseudonymiser(secret).column(old)
    return pl.DataFrame({"old": old, "new": new})


def rekey_warehouse(
    old_key_file: str | os.PathLike[str],
    new_key_file: str | os.PathLike[str],
    *,
    warehouse: str | os.PathLike[str] | None = None,
    role: str | None = None,
    rebuild: Rebuild | None = None,
) -> RekeyResult:
    """Re-pseudonymise the warehouse from the key in ``old_key_file`` to that key extended by a
    new secret, written to ``new_key_file`` (see the module docstring). ``rebuild`` rebuilds the
    derived tables (``lmp_analytics.jobs.build_derived``)."""
    target = warehouse_path(warehouse)
    if not target.exists():
        raise refusal(WarehouseError, "no_warehouse", target=target)
    old_path, new_path = Path(old_key_file).resolve(), Path(new_key_file).resolve()
    if old_path == new_path:
        raise refusal(KeyMissingError, "key_files_same")
    old = protect.read_key_file(old_path)
    secret, before = _new_secret(new_path, old)
    chain = old + protect.KEY_SEPARATOR + secret
    old_fp, new_fp = protect.key_fingerprint(old), protect.key_fingerprint(chain)
    written = False
    try:
        with (audit.pending("rekey", role=role, warehouse=target) as entry,
              write_session(target, erase=True) as session):
            con = session.con
            if not meta.check_key(con, old, source=message("refusal.source_file", path=old_path),
                                  action="Rekey"):
                raise refusal(KeyMismatchError, "no_fingerprint_rekey", path=old_path)
            mapping = _mapping(con, secret)
            con.register("rekey_map", mapping)
            con.register("rekey_nomination_columns",
                         pl.DataFrame({"column_name": _nomination_columns()},
                                      schema={"column_name": pl.String}))
            try:
                con.execute(_q("apply"))
                rebuild_rounds(con)
                if rebuild is not None:
                    rebuild(con)
                left = con.execute(_q("old_left")).fetchall()[0][0]
                if "fct_pupil_indicator" in {r[0] for r in con.execute(
                        "SELECT table_name FROM duckdb_tables()").fetchall()}:
                    left += con.execute(_q("old_left_derived")).fetchall()[0][0]
                if left:
                    raise refusal(WarehouseError, "pseudonyms_left", target=target, left=left)
            finally:
                con.unregister("rekey_map")
                con.unregister("rekey_nomination_columns")
            meta.record_key(con, chain)
            _write_private(new_path, b"\n".join(protect.key_chain(chain)) + b"\n")
            written = True
            entry.detail = (f"{mapping.height} pseudonyms moved from key fingerprint "
                            f"{old_fp[:12]}... to {new_fp[:12]}...; new key file {new_path}")
            entry.record()
    except BaseException:
        if written:  # the warehouse was not published: the key file goes back as it was
            if before is None:
                new_path.unlink(missing_ok=True)
            else:
                _write_private(new_path, before)
        raise
    return RekeyResult(mapping.height, new_path, old_fp, new_fp)


__all__ = ["RekeyResult", "rekey_warehouse"]
