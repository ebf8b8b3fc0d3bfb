"""The dashboard's data layer: cached calls of :mod:`lmp_analytics.api` and
:mod:`lmp_analytics.readmodels`, keyed on the published warehouse file.

Every call reads inside :func:`lmp_analytics.warehouse.shared.sharing`: the package functions'
short-lived connections are cursors of one DuckDB instance per published version, opened once
and closed 2–3 s after its last read (so a page's reads do not each open the file, and an erased
version is not held open). Results are cached per warehouse *stamp* (inode, size, mtime): an ingest
publishes by ``os.replace``, which changes the stamp, so the next page run reads the new data
without a restart, and the previous stamp's entries are dropped. Expensive role-independent
results (the publication, per-school changes, the event study) are cached once at programme
scope and cut to each role with :func:`lmp_analytics.privacy.scope.scope` (surface
``dashboard``), the one role scope.
When a new stamp is first seen, a background thread warms the cache for the headline
indicator so pages answer from memory.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from lmp_analytics import api
from lmp_analytics.config import warehouse_path
from lmp_analytics.privacy.roles import Role
from lmp_analytics.privacy.scope import scope
from lmp_analytics.readmodels import attention as attention_list
from lmp_analytics.readmodels import catalogue, comparison, quality
from lmp_analytics.warehouse.shared import sharing
from lmp_analytics.warehouse.snapshots import READ_INFIX, snapshot_path, snapshot_tmp_path

log = logging.getLogger("lmp_dashboard")

TTL_SECONDS = 15 * 60
MAX_ENTRIES = 600
HEADLINE = "mobbet"


KEEP_SNAPSHOTS = 3


@dataclass(frozen=True)
class Source:
    """The warehouse a page run reads: the published path, the stamp (inode, size, mtime) of
    the version this run reads, and ``read_path``: a hard link to exactly that version.

    Why a link: DuckDB shares one database instance per path inside a process, so while any
    connection to the previous file is still open (another session, the warm-up thread), a
    fresh ``connect(path)`` would get the *old* snapshot after ``os.replace``. A link named by
    the stamp is a different path pinned to one version: every query of a run reads the same
    snapshot, and a new publish is always read from a new path. ``lmp forget`` and ``lmp
    retention`` delete every link after they publish: a run whose link is gone reads the
    published path (the new version), and the next run links the new version.
    """

    path: Path
    stamp: tuple[int, int, int] | None
    read_path: Path | None = None

    @property
    def exists(self) -> bool:
        return self.stamp is not None

    @property
    def reads(self) -> str:
        """The file a run reads: its snapshot link, or the published path once an erasure has
        deleted the link (a run never reopens an erased version)."""
        if self.read_path is not None and (self.read_path == self.path
                                           or self.read_path.exists()):
            return str(self.read_path)
        return str(self.path)

    @property
    def published(self) -> float | None:
        return None if self.stamp is None else self.stamp[2] / 1e9


def _stamp(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def source(path: str | os.PathLike[str] | None = None) -> Source:
    """The configured warehouse, the stamp of its current version and a link to that version
    (the published path itself when a link cannot be made, e.g. a read-only directory)."""
    target = warehouse_path(path)
    try:
        st = os.stat(target)
    except OSError:
        return Source(target, None, None)
    try:
        return _snapshot(target)
    except OSError:
        log.warning("cannot link a snapshot of %s; reading the published path", target,
                    exc_info=True)
        return Source(target, _stamp(st), target)


_link_lock = threading.Lock()


def _snapshot(target: Path) -> Source:
    """Hard-link the published file as ``<name>.read-<inode>-<mtime_ns>`` beside it.

    The link is kept only if it is still of the published version once it has its final name:
    an erasure that publishes meanwhile deletes every link it finds, and this check removes a
    link of the erased version made too late for it to find."""
    with _link_lock:
        for _ in range(5):
            tmp = snapshot_tmp_path(target, f"{os.getpid()}-{threading.get_ident()}")
            tmp.unlink(missing_ok=True)
            os.link(target, tmp)              # pins whatever version is published right now
            stamp = _stamp(os.stat(tmp))
            final = snapshot_path(target, stamp[0], stamp[2])
            if final.exists():
                tmp.unlink()
            else:
                os.replace(tmp, final)
            if os.stat(target).st_ino == stamp[0]:
                _prune(target, keep=final)
                return Source(target, stamp, final)
            final.unlink(missing_ok=True)     # a newer version was published meanwhile
    raise OSError(f"{target} changed while a reader snapshot was being made")


def _prune(target: Path, keep: Path) -> None:
    """Keep the newest few snapshot links (an older one may still be read by a finishing run;
    unlinking never disturbs an open connection)."""
    def mtime(p: Path) -> int:
        try:
            return int(p.name.rsplit("-", 1)[-1])
        except ValueError:
            return 0

    links = sorted(target.parent.glob(f"{target.name}{READ_INFIX}[0-9]*-[0-9]*"), key=mtime)
    for old in links[:-KEEP_SNAPSHOTS]:
        if old != keep:
            old.unlink(missing_ok=True)


class _Memo:
    """A small thread-safe memo with a TTL, one computation per key at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._store: dict[tuple, tuple[float, object]] = {}
        self._key_locks: dict[tuple, threading.Lock] = {}
        self._latest: dict[str, tuple] = {}

    def get(self, src: Source, name: str, args: tuple, compute: Callable[[], object]):
        key = (str(src.path), src.stamp, name, args)
        with self._lock:
            self._forget_old(src)
            hit = self._store.get(key)
            if hit is not None and time.monotonic() - hit[0] < TTL_SECONDS:
                return hit[1]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                hit = self._store.get(key)
                if hit is not None and time.monotonic() - hit[0] < TTL_SECONDS:
                    return hit[1]
            with sharing():
                value = compute()
            with self._lock:
                self._store[key] = (time.monotonic(), value)
                if len(self._store) > MAX_ENTRIES:
                    for old in sorted(self._store, key=lambda k: self._store[k][0])[
                            : len(self._store) - MAX_ENTRIES]:
                        self._store.pop(old, None)
                        self._key_locks.pop(old, None)
            return value

    def _forget_old(self, src: Source) -> None:
        """Drop entries of an earlier stamp of the same warehouse (a newer one is published)."""
        path = str(src.path)
        if self._latest.get(path) == src.stamp:
            return
        self._latest[path] = src.stamp
        for key in [k for k in self._store if k[0] == path and k[1] != src.stamp]:
            self._store.pop(key, None)
            self._key_locks.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._store.clear()
            self._key_locks.clear()
            self._latest.clear()


_memo = _Memo()
_warmed: set[tuple] = set()
_warm_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every cached result (tests)."""
    _memo.clear()
    with _warm_lock:
        _warmed.clear()


def _wh(src: Source) -> str:
    return src.reads


# --------------------------------------------------------------------------------------------
# Indicators and changes (the API)


def indicators(src: Source, role: Role, level: str = "skole", *, indicator: str | None = None,
               by: str | None = None, school: str | None = None) -> pl.DataFrame:
    """``api.indicators`` for the role (cached at programme scope, then scoped); ``school``:
    that school's cells only (fetched and cached per school)."""
    def cut() -> pl.DataFrame:
        frame = _programme_indicators(src, level, by, school)
        if frame.height and indicator is not None:
            frame = frame.filter(pl.col("indicator") == indicator)
        return scope(frame, role, "dashboard") if frame.height else frame

    return _memo.get(src, "indicators_cut", (str(role), level, by, school, indicator), cut)


def _programme_indicators(src: Source, level: str, by: str | None,
                          school: str | None) -> pl.DataFrame:
    """The cached programme-scope cells every role's cut is taken from (not yet scoped)."""
    return _memo.get(src, "indicators", (level, by, school), lambda: api.indicators(
        level, indicator=None, by=by, role="program", warehouse=_wh(src),
        schools=None if school is None else [school], surface="dashboard"))


def threshold(src: Source) -> int:
    """The threshold the numbers shown are suppressed with (``api.threshold``: the warehouse's
    recorded ``min_n``, or a stricter ``LMP_MIN_N``), cached per published version."""
    return _memo.get(src, "threshold", (), lambda: api.threshold(_wh(src)))


def compare(src: Source, role: Role, *, indicator: str, phase: str | int) -> pl.DataFrame:
    """``api.compare`` for the role (cached at programme scope, then scoped; the role's cut is
    cached too, so a page run of a session reuses it)."""
    return _memo.get(src, "compare_cut", (str(role), indicator, str(phase)), lambda: scope(
        _programme_compare(src, indicator, phase), role, "dashboard"))


def _programme_compare(src: Source, indicator: str, phase: str | int) -> pl.DataFrame:
    """The cached programme-scope changes every role's cut is taken from (not yet scoped)."""
    return _memo.get(src, "compare", (indicator, str(phase)), lambda: api.compare(
        indicator=indicator, phase=phase, role="program", warehouse=_wh(src),
        surface="dashboard"))


def school_changes(src: Source, role: Role, orgnr: str, *, indicator: str) -> pl.DataFrame:
    """One school's round-to-round changes (``api.compare(phase='runde', schools=[orgnr])``:
    read from the stored changes, Benjamini-Hochberg within that school's rounds), cached per
    school at programme scope, then scoped."""
    frame = _memo.get(src, "school_compare", (orgnr, indicator), lambda: api.compare(
        indicator=indicator, phase="runde", role="program", warehouse=_wh(src),
        schools=[orgnr], surface="dashboard"))
    return scope(frame, role, "dashboard")


# --------------------------------------------------------------------------------------------
# Views


def _scoped(src: Source, role: Role, name: str, fn: Callable[..., pl.DataFrame],
            *args, **kwargs) -> pl.DataFrame:
    """A read model whose last step is the role scope: cached at programme scope."""
    key = (args, tuple(sorted(kwargs.items())))
    return _memo.get(src, name + "_cut", (str(role), *key), lambda: scope(_memo.get(
        src, name, key, lambda: fn(*args, role="program", warehouse=_wh(src), **kwargs)),
        role, "dashboard"))


def schools(src: Source, role: Role) -> pl.DataFrame:
    return _scoped(src, role, "schools", catalogue.schools)


def rounds(src: Source, role: Role) -> pl.DataFrame:
    return _scoped(src, role, "rounds", catalogue.rounds)


def phase_calendar(src: Source, role: Role) -> pl.DataFrame:
    return _scoped(src, role, "phases", catalogue.phase_calendar)


def response_rates(src: Source, role: Role) -> pl.DataFrame:
    return _scoped(src, role, "rates", quality.response_rates)


def quarantine(src: Source, role: Role) -> pl.DataFrame:
    return _scoped(src, role, "quarantine", quality.quarantine_summary)


def item_nonresponse(src: Source, role: Role) -> pl.DataFrame:
    return _scoped(src, role, "nonresponse", quality.item_nonresponse)


def instruments(src: Source, role: Role) -> pl.DataFrame:
    return _scoped(src, role, "instruments", quality.instrument_overview)


def kommuner(src: Source, role: Role) -> pl.DataFrame:
    return _memo.get(src, "kommuner", (str(role),), lambda: catalogue.kommuner(
        role=role, warehouse=_wh(src)))


def demo_roles(src: Source, extra: tuple[str, ...]) -> list[str]:
    """``role_picker.demo_roles`` (the demo's role picker; every run of app.py asks), cached
    per published file and extra roles."""
    from lmp_analytics.readmodels import role_picker

    return _memo.get(src, "demo_roles", extra, lambda: role_picker.demo_roles(
        warehouse=_wh(src), extra=extra))


def terms(src: Source) -> list[str]:
    return _memo.get(src, "terms", (), lambda: catalogue.terms(warehouse=_wh(src)))


def comparison_series(src: Source, role: Role, indicator: str) -> pl.DataFrame:
    """Programme rows (shared) and the kommune rows in the role's scope."""
    return _memo.get(src, "series_cut", (str(role), indicator), lambda: scope(_memo.get(
        src, "series", (indicator,), lambda: comparison.comparison_series(
            indicator=indicator, role="program", warehouse=_wh(src))), role, "dashboard"))


def own_series(src: Source, role: Role, indicator: str,
               kommune: str | None = None) -> pl.DataFrame:
    """The role's own participating schools pooled by term (a supervisor's headline); with
    ``kommune``, those of her schools in that municipality."""
    return _memo.get(src, "own_series", (str(role), indicator, kommune or ""),
                     lambda: comparison.own_schools_series(indicator=indicator, role=role,
                                                           warehouse=_wh(src),
                                                           kommunenummer=kommune or None))


def national(src: Source, role: Role) -> pl.DataFrame:
    return _memo.get(src, "national", (str(role),), lambda: comparison.national_series(
        role=role, warehouse=_wh(src)))


def eu_benchmark(src: Source, role: Role, pre: str, post: str) -> pl.DataFrame:
    return _memo.get(src, "eu_benchmark", (str(role), pre, post), lambda: comparison.eu_benchmark(
        pre, post, role=role, warehouse=_wh(src), allow_break=True))


def did(src: Source, role: Role, indicator: str, pre: str, post: str,
        kommunenummer: str | None) -> pl.DataFrame:
    if kommunenummer is not None and not role.includes_kommune(kommunenummer):
        raise PermissionError(f"role {role} does not include kommune {kommunenummer}")
    return _memo.get(src, "did", (indicator, pre, post, kommunenummer),
                     lambda: comparison.did_summary(
        indicator=indicator, pre_term=pre, post_term=post, role="program",
        kommunenummer=kommunenummer, warehouse=_wh(src)))


def event_study(src: Source, indicator: str) -> comparison.EventStudyView:
    """Programme-level: the same for every role."""
    return _memo.get(src, "event_study", (indicator,), lambda: comparison.event_study(
        indicator=indicator, role="program", warehouse=_wh(src)))


def attention(src: Source, role: Role, indicator: str) -> pl.DataFrame:
    """The role's schools ranked among themselves (cached per role)."""
    def compute() -> pl.DataFrame:
        cells = _programme_indicators(src, "skole", None, None)  # scoped once, by attention
        changes = _programme_compare(src, indicator, "runde")
        return attention_list.attention(indicator=indicator, role=role, warehouse=_wh(src),
                               changes=changes, cells=cells)

    return _memo.get(src, "attention", (str(role), indicator), compute)


# --------------------------------------------------------------------------------------------
# Warm-up


def warm(src: Source, *, background: bool = True,
         pause: Callable[[], None] | None = None) -> None:
    """Precompute what most pages need for a newly published warehouse (once per stamp): first
    what every run of ``app.py`` and the landing page (Oversikt) ask for, in the order they
    ask, then the other pages. ``pause``, if given, is called before each step after the
    landing page's (the server passes one that waits while a session's page runs, so the first
    page after a start does not share the process with the rest of the warm-up)."""
    if not src.exists:
        return
    key = (str(src.path), src.stamp)
    with _warm_lock:
        if key in _warmed:
            return
        _warmed.add(key)
    program = Role("program")
    phases = ("runde", "1", "2", "3", "4", "program")
    landing: list[Callable[[], object]] = [
        lambda: schools(src, program),       # app.py (role labels), then Oversikt
        lambda: terms(src),                  # ui.require_data
        lambda: kommuner(src, program),
        lambda: indicators(src, program, "skole"),   # pages read only school cells here
        lambda: indicators(src, program, "skole", indicator=HEADLINE),
        lambda: rounds(src, program),
        lambda: phase_summary(src, program, HEADLINE),
        *(lambda p=p: compare(src, program, indicator=HEADLINE, phase=p) for p in phases),
        lambda: alerts(src, program, HEADLINE),
        lambda: comparison_series(src, program, HEADLINE),
        lambda: national(src, program),
        lambda: threshold(src),              # ui.suppression_caption
        lambda: attention(src, program, HEADLINE),
    ]
    rest: list[Callable[[], object]] = [
        lambda: phase_calendar(src, program),
        lambda: pre_programme_rounds(src, program),
        lambda: event_study(src, HEADLINE),
        lambda: has_national_schools(src) and national_programme(src, HEADLINE),
        lambda: response_rates(src, program),
        lambda: quarantine(src, program),
        lambda: item_nonresponse(src, program),
        lambda: instruments(src, program),
    ]

    def run() -> None:
        started = time.perf_counter()
        try:
            for step in landing:
                step()
            for step in rest:
                if pause is not None:
                    pause()
                step()
        except Exception:  # a half-built or swapped warehouse: pages compute on demand
            log.warning("dashboard cache warm-up stopped", exc_info=True)
        log.info("dashboard cache warmed in %.2f s", time.perf_counter() - started)

    if background:
        # Not a daemon: a DuckDB query cut off at interpreter exit aborts the process.
        threading.Thread(target=run, name="lmp-dashboard-warmup", daemon=False).start()
    else:
        run()


def school_report(src: Source, role: Role, orgnr: str, lang: str) -> bytes:
    """The PDF school report (``lmp_analytics.reports.render_school_report``, the function
    behind ``lmp report``), recorded in the audit log before the bytes are handed out."""
    from lmp_analytics.reports import render_school_report
    from lmp_analytics.warehouse.audit import record

    with sharing():
        pdf = render_school_report(orgnr, lang=lang, fmt="pdf", role=role, warehouse=_wh(src))
    record("report", role=str(role), scope=orgnr, detail=f"dashboard download lang={lang}",
           warehouse=src.path, outputs=["<dashboard download>"])
    return pdf


def tilstandsrapport(src: Source, role: Role, kommune: str, skoleaar: str, lang: str,
                     fmt: str) -> bytes:
    """The municipality's state-report chapter (``lmp_analytics.reports.tilstand``, the function
    behind ``lmp tilstandsrapport``), recorded in the audit log before the bytes are handed out."""
    from lmp_analytics.reports.tilstand import render_tilstand
    from lmp_analytics.warehouse.audit import record

    with sharing():
        out = render_tilstand(kommune, skoleaar, fmt=fmt, lang=lang, role=role,
                              warehouse=_wh(src))
    record("tilstandsrapport", role=str(role), scope=f"kommune {kommune}",
           detail=f"dashboard download skoleaar={skoleaar}, format={fmt}, lang={lang}",
           warehouse=src.path, outputs=["<dashboard download>"])
    return out


# --------------------------------------------------------------------------------------------
# The landing panel and alerts (lmp_analytics.readmodels.landing)


def _phase_changes(src: Source, indicator: str) -> pl.DataFrame:
    """Every phase's per-school changes at programme scope, from the cached ``compare``."""
    return pl.concat([compare(src, Role("program"), indicator=indicator, phase=p)
                      for p in ("1", "2", "3", "4", "program")], how="vertical_relaxed")


def phase_summary(src: Source, role: Role, indicator: str) -> pl.DataFrame:
    """``landing.phase_summary`` for the role (cached per role): read from the panel stored at
    publish time; pooled here only for a role the warehouse does not store (a supervisor's own
    schools), from the cached changes."""
    from lmp_analytics.evaluation.landing_panel import stored_role
    from lmp_analytics.readmodels import landing

    return _memo.get(src, "phase_summary", (str(role), indicator), lambda: (
        landing.phase_summary(indicator=indicator, role=role, warehouse=_wh(src),
                              changes=None if stored_role(role) is not None
                              else _phase_changes(src, indicator))))


def alerts(src: Source, role: Role, indicator: str) -> pl.DataFrame:
    """``landing.alerts`` for the role (cached per role)."""
    from lmp_analytics.readmodels import landing

    return _memo.get(src, "alerts", (str(role), indicator), lambda: landing.alerts(
        indicator=indicator, role=role, warehouse=_wh(src),
        rounds=compare(src, Role("program"), indicator=indicator, phase="runde"),
        phases=_phase_changes(src, indicator)))


# --------------------------------------------------------------------------------------------
# The national panel (lmp_analytics.evaluation.national_view): fitted once per published file


def has_national_schools(src: Source) -> bool:
    """``national_view.has_school_results``: school-level Elevundersøkelsen results loaded."""
    from lmp_analytics.evaluation import national_view

    return _memo.get(src, "has_national_schools", (),
                     lambda: national_view.has_school_results(_wh(src)))


def national_programme(src: Source, indicator: str = "mobbet"):
    """``national_view.programme_view``: the designs and the event study (programme level)."""
    from lmp_analytics.evaluation import national_view

    return _memo.get(src, "national_programme", (indicator,),
                     lambda: national_view.programme_view(_wh(src), indicator))


def national_kommune(src: Source, kommune: str) -> pl.DataFrame:
    """``national_view.kommune_view``: the municipality's own LMP schools against the eligible
    non-participants of the country as one unnamed group."""
    from lmp_analytics.evaluation import national_view

    return _memo.get(src, "national_kommune", (kommune,),
                     lambda: national_view.kommune_view(_wh(src), kommune))


def pre_programme_rounds(src: Source, role: Role) -> int:
    """``api.pre_programme_rounds`` for the role (cached per published file)."""
    return _memo.get(src, "pre_programme_rounds", (str(role),),
                     lambda: api.pre_programme_rounds(role=role, warehouse=_wh(src)))
