"""Roles and their data scope, enforced in the data layer (not by hiding pages).

Role strings:

- ``program``                 everything, aggregated (programme owner)
- ``kommune:<kommunenummer>`` one municipality (4 digits), e.g. ``kommune:0301``
- ``veileder:<orgnr,...>``    the assigned schools (9-digit orgnr), school and grade level
- ``forsker``                 researcher: everything; pseudonymised pupil and group (class) level
                              only in notebooks, never in a dashboard

No role sees group/class level in a dashboard. The role configuration ``users.toml`` maps user
e-mail addresses to role strings::

    default_role = "program"          # optional: for users not listed
    [users]
    "ola@kommune.no" = "kommune:0301"
    "kari@lms.uis.no" = "veileder:974589095,974589109"

Its path is ``LMP_ROLES`` or ``users.toml`` in the project root.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

from lmp_analytics import config
from lmp_analytics.errors import LmpError, Message, keyed

__all__ = [
    "ROLE_KINDS",
    "Role",
    "RoleConfig",
    "RoleError",
    "default_role",
    "load_role_config",
    "parse_role",
    "role_for_user",
    "roles_path",
]

RoleKind = Literal["program", "kommune", "veileder", "forsker"]
ROLE_KINDS: tuple[RoleKind, ...] = ("program", "kommune", "veileder", "forsker")
_KOMMUNE_RE = re.compile(r"^\d{4}$")
_ORGNR_RE = re.compile(r"^\d{9}$")
_FORMAT = "program, kommune:<4-digit kommunenummer>, veileder:<9-digit orgnr,...> or forsker"
#: :data:`_FORMAT` keyed for the CLI (this layer sits below ``presentation``: a role's refusal
#: keeps its English text here and carries the key of ``cli.refusal.*``; a test checks that the
#: two agree).
_EXPECTED = Message(_FORMAT, "refusal.role_format", {})


class RoleError(LmpError, ValueError):
    """A role string or role configuration that is not valid (names the value and the file)."""


@dataclass(frozen=True)
class Role:
    """Who sees what. ``kommuner`` is set for ``kommune``, ``schools`` for ``veileder``."""

    kind: RoleKind
    kommuner: frozenset[str] = field(default_factory=frozenset)
    schools: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.kind not in ROLE_KINDS:
            raise keyed(RoleError(f"unknown role kind {self.kind!r}; expected {_FORMAT}"),
                        "refusal.role_kind", kind=self.kind, format=_EXPECTED)
        object.__setattr__(self, "kommuner", frozenset(self.kommuner))
        object.__setattr__(self, "schools", frozenset(self.schools))
        bad_k = sorted(k for k in self.kommuner if not _KOMMUNE_RE.match(k))
        bad_s = sorted(s for s in self.schools if not _ORGNR_RE.match(s))
        if bad_k or bad_s:
            raise keyed(RoleError(f"role {self.kind}: not a kommunenummer/orgnr: {bad_k + bad_s}"),
                        "refusal.role_ids", kind=self.kind, bad=str(bad_k + bad_s))
        wants = {
            "kommune": (len(self.kommuner) == 1, not self.schools),
            "veileder": (not self.kommuner, bool(self.schools)),
        }.get(self.kind, (not self.kommuner, not self.schools))
        if not all(wants):
            raise keyed(RoleError(
                f"role {self.kind} with kommuner={sorted(self.kommuner)} "
                f"schools={sorted(self.schools)}; expected {_FORMAT}"
            ), "refusal.role_shape", kind=self.kind, kommuner=str(sorted(self.kommuner)),
                schools=str(sorted(self.schools)), format=_EXPECTED)

    @classmethod
    def parse(cls, text: str) -> Role:
        """Parse a role string (see the module docstring); raises :class:`RoleError`."""
        return parse_role(text)

    def __str__(self) -> str:
        if self.kind == "kommune":
            return f"kommune:{next(iter(self.kommuner))}"
        if self.kind == "veileder":
            return "veileder:" + ",".join(sorted(self.schools))
        return self.kind

    @property
    def sees_all_units(self) -> bool:
        """True for roles whose scope is every school and municipality."""
        return self.kind in ("program", "forsker")

    def includes_kommune(self, kommunenummer: str | None) -> bool:
        """Whether the municipality's own aggregates are in scope."""
        return self.sees_all_units or (
            self.kind == "kommune" and kommunenummer in self.kommuner
        )

    def includes_school(self, orgnr: str, kommunenummer: str | None = None) -> bool:
        """Whether a school is in scope; a kommune role needs the school's kommunenummer."""
        if self.sees_all_units:
            return True
        if self.kind == "kommune":
            return kommunenummer is not None and kommunenummer in self.kommuner
        return orgnr in self.schools

    def may_see_groups(self, *, dashboard: bool) -> bool:
        """Group/class level (and pseudonymised pupil level): researchers, outside dashboards."""
        return self.kind == "forsker" and not dashboard

    def scope_filter(
        self,
        *,
        school_column: str | None = "skole_orgnr",
        kommune_column: str | None = "kommunenummer",
        group_column: str | None = None,
        dashboard: bool = True,
        include_aggregates: bool = True,
    ) -> pl.Expr:
        """A filter for frames with school/kommune columns (``None``: the frame has none).

        A row with both columns null is an aggregate above municipality level (programme,
        pulje, nation); those are kept for comparison when ``include_aggregates``. With
        ``group_column``, rows at group/class level are dropped unless :meth:`may_see_groups`.
        """
        school = pl.col(school_column) if school_column else pl.lit(None, dtype=pl.String)
        kommune = pl.col(kommune_column) if kommune_column else pl.lit(None, dtype=pl.String)
        above = school.is_null() & kommune.is_null()
        if self.sees_all_units:
            keep = pl.lit(True)
        elif self.kind == "kommune":
            keep = kommune.is_in(sorted(self.kommuner))
        else:
            keep = school.is_in(sorted(self.schools))
        keep = keep.fill_null(False)
        if include_aggregates:
            keep = keep | above
        if group_column and not self.may_see_groups(dashboard=dashboard):
            keep = keep & pl.col(group_column).is_null()
        return keep

    def apply_scope(
        self,
        frame: pl.DataFrame,
        *,
        dashboard: bool = True,
        group_column: str = "gruppe",
        include_aggregates: bool = True,
    ) -> pl.DataFrame:
        """Rows of ``frame`` this role may see (skole_orgnr/kommunenummer/gruppe if present)."""
        cols = set(frame.columns)
        if self.kind == "kommune" and "kommunenummer" not in cols and "skole_orgnr" in cols:
            raise keyed(RoleError(
                f"role {self}: the frame has school rows but no 'kommunenummer' column to scope "
                f"them by (columns: {frame.columns})"
            ), "refusal.role_frame", role=str(self), columns=str(frame.columns))
        expr = self.scope_filter(
            school_column="skole_orgnr" if "skole_orgnr" in cols else None,
            kommune_column="kommunenummer" if "kommunenummer" in cols else None,
            group_column=group_column if group_column in cols else None,
            dashboard=dashboard,
            include_aggregates=include_aggregates,
        )
        return frame.filter(expr)


def parse_role(text: str) -> Role:
    """``'kommune:0301'`` -> ``Role('kommune', kommuner={'0301'})``; raises :class:`RoleError`."""
    if not isinstance(text, str) or not text.strip():
        raise keyed(RoleError(f"empty role {text!r}; expected {_FORMAT}"), "refusal.role_empty",
                    role=text, format=_EXPECTED)
    kind, sep, rest = text.strip().partition(":")
    kind = kind.strip().lower()
    if kind not in ROLE_KINDS:
        raise keyed(RoleError(f"unknown role {text!r}; expected {_FORMAT}"), "refusal.role_unknown",
                    role=text, format=_EXPECTED)
    if kind in ("program", "forsker"):
        if sep:
            raise keyed(RoleError(f"role {text!r}: '{kind}' takes no argument"),
                        "refusal.role_no_argument", role=text, kind=kind)
        return Role(kind)
    items = [x.strip() for x in rest.split(",")] if sep else []
    if not items or any(not x for x in items):
        raise keyed(RoleError(f"role {text!r}: '{kind}:' needs a value; expected {_FORMAT}"),
                    "refusal.role_needs_value", role=text, kind=kind, format=_EXPECTED)
    if kind == "kommune":
        if len(items) != 1 or not _KOMMUNE_RE.match(items[0]):
            raise keyed(RoleError(f"role {text!r}: expected kommune:<4-digit kommunenummer>"),
                        "refusal.role_kommune", role=text)
        return Role("kommune", kommuner=frozenset(items))
    bad = [x for x in items if not _ORGNR_RE.match(x)]
    if bad:
        raise keyed(RoleError(f"role {text!r}: {bad} are not 9-digit organisasjonsnumre"),
                    "refusal.role_orgnr", role=text, bad=str(bad))
    return Role("veileder", schools=frozenset(items))


@dataclass(frozen=True)
class RoleConfig:
    """Users (lower-cased e-mail -> role) and the role for anyone not listed (or None)."""

    users: Mapping[str, Role] = field(default_factory=dict)
    default_role: Role | None = None
    path: Path | None = None

    def role_for(self, email: str) -> Role | None:
        """The user's role, else the default role, else None (not configured: no access)."""
        return self.users.get(email.strip().lower(), self.default_role)


def roles_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The role file: an explicit path, then ``LMP_ROLES``, then ``users.toml`` in the project."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get("LMP_ROLES")
    if env:
        return Path(env).expanduser().resolve()
    return config.PROJECT_ROOT / "users.toml"


def load_role_config(path: str | os.PathLike[str] | None = None) -> RoleConfig:
    """Read ``users.toml``. A missing default file means nobody is configured; a missing file
    that was named (argument or ``LMP_ROLES``) is an error."""
    named = bool(path) or bool(os.environ.get("LMP_ROLES"))
    file = roles_path(path)
    if not file.exists():
        if named:
            raise keyed(RoleError(f"{file}: role configuration not found"),
                        "refusal.roles_not_found", file=file)
        return RoleConfig(path=None)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise keyed(RoleError(f"{file}: not valid TOML: {exc}"), "refusal.roles_toml", file=file,
                    detail=exc) from exc
    unknown = sorted(set(data) - {"users", "default_role"})
    if unknown:
        raise keyed(RoleError(f"{file}: unknown key(s) {unknown}; expected [users] and "
                              "default_role"),
                    "refusal.roles_unknown_keys", file=file, unknown=str(unknown))
    table = data.get("users", {})
    if not isinstance(table, dict):
        raise keyed(RoleError(f"{file}: 'users' must be a table of \"email\" = \"role\""),
                    "refusal.roles_users_table", file=file)
    users: dict[str, Role] = {}
    for email, text in table.items():
        key = email.strip().lower()
        if not key:
            raise keyed(RoleError(f"{file}: [users] has an empty e-mail address"),
                        "refusal.roles_empty_email", file=file)
        if key in users:
            raise keyed(RoleError(f"{file}: user {email!r} is listed twice (e-mail is "
                                  "case-insensitive)"),
                        "refusal.roles_twice", file=file, email=email)
        if not isinstance(text, str):
            raise keyed(RoleError(f"{file}: user {email!r}: role must be a string, got {text!r}"),
                        "refusal.roles_not_string", file=file, email=email, got=text)
        try:
            users[key] = parse_role(text)
        except RoleError as exc:
            raise keyed(RoleError(f"{file}: user {email!r}: {exc}"), "refusal.roles_user",
                        file=file, email=email, detail=exc) from exc
    default = data.get("default_role")
    if default is not None:
        if not isinstance(default, str):
            raise keyed(RoleError(f"{file}: default_role must be a string, got {default!r}"),
                        "refusal.roles_default_string", file=file, got=default)
        try:
            default = parse_role(default)
        except RoleError as exc:
            raise keyed(RoleError(f"{file}: default_role: {exc}"), "refusal.roles_default",
                        file=file, detail=exc) from exc
    return RoleConfig(users=users, default_role=default, path=file)


def role_for_user(email: str, config_: RoleConfig | None = None) -> Role | None:
    """The role of a user (loads the configured ``users.toml`` when none is given)."""
    return (config_ or load_role_config()).role_for(email)


def default_role(path: str | os.PathLike[str] | None = None) -> Role | None:
    """The configuration's ``default_role`` (None when not set or no file is configured)."""
    return load_role_config(path).default_role
