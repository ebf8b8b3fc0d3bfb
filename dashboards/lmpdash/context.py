"""Who is looking, in which language, at which warehouse: decided once per script run.

Login (Streamlit's built-in OIDC, ``st.login``/``st.user``) is on when ``.streamlit/
secrets.toml`` has an ``[auth]`` section. Then the role comes only from the role
configuration (``users.toml``, :func:`lmp_analytics.privacy.roles.role_for_user`) for the
signed-in e-mail; query parameters and widgets cannot change it, and a user without a role is
refused politely. Without login the app is in demo mode: it refuses to serve anything unless
bound to the loopback address, shows a banner and lets the viewer pick a role.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import streamlit as st

from lmp_analytics.privacy.roles import (
    Role,
    RoleConfig,
    RoleError,
    load_role_config,
    parse_role,
)

from . import data
from .i18n import LANGS, lang_name, picker_label, t

log = logging.getLogger("lmp_dashboard")

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_CTX_KEY = "_lmp_context"
LANG_KEY = "lmp_lang"
ROLE_KEY = "lmp_demo_role"


@dataclass(frozen=True)
class Context:
    """Decided per run by ``app.py``; pages read it with :func:`current`."""

    lang: str
    role: Role
    login: bool                   # True when the role comes from a signed-in user
    email: str | None
    src: data.Source
    role_choices: tuple[str, ...] = ()

    def t(self, key: str, **kwargs) -> str:
        return t(key, self.lang, **kwargs)


def current() -> Context:
    """The context of this run (set by ``app.py`` before the page runs)."""
    ctx = st.session_state.get(_CTX_KEY)
    if not isinstance(ctx, Context):  # a page run on its own (should not happen)
        raise RuntimeError("dashboard context missing: start the app with dashboards/app.py")
    return ctx


def set_current(ctx: Context) -> None:
    st.session_state[_CTX_KEY] = ctx


def query_param(name: str) -> str | None:
    value = st.query_params.get(name)
    if isinstance(value, list):
        value = value[-1] if value else None
    return str(value) if value not in (None, "") else None


# --------------------------------------------------------------------------------------------
# Language


def resolve_lang() -> str:
    """The language chosen in the sidebar; on the first run ``?lang=en`` may preselect it."""
    if LANG_KEY not in st.session_state:
        wanted = (query_param("lang") or "nb").lower()
        st.session_state[LANG_KEY] = wanted if wanted in LANGS else "nb"
    lang = st.session_state.get(LANG_KEY)
    return lang if lang in LANGS else "nb"


def language_picker(lang: str) -> None:
    st.sidebar.radio(
        picker_label(), LANGS, key=LANG_KEY, horizontal=True, format_func=lang_name,
    )


# --------------------------------------------------------------------------------------------
# Login


class LoginConfigError(Exception):
    """secrets.toml exists but cannot be read: refuse rather than fall back to demo mode."""


def login_configured() -> bool:
    """Whether ``[auth]`` is configured in Streamlit secrets."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError as exc:  # StreamlitSecretNotFoundError subclasses it
        if getattr(exc, "error_id", None) == "no-secrets-found" or str(exc).startswith(
                "No secrets found"):
            return False
        raise LoginConfigError(str(exc)) from exc
    except Exception as exc:
        raise LoginConfigError(str(exc)) from exc


FORWARDING_HEADERS = ("x-forwarded-for", "x-forwarded-host", "x-real-ip", "forwarded")


def demo_allowed() -> bool:
    """Demo mode (no login) only for a server bound to the loopback address and a browser on
    this machine: not on 0.0.0.0, and not behind a reverse proxy (forwarding headers or a Host
    other than localhost), which would publish the unprotected demo."""
    try:
        address = st.get_option("server.address")
    except Exception:
        return False
    if str(address or "").strip() not in LOOPBACK:
        return False
    try:
        headers = dict(st.context.headers or {})
    except Exception:
        headers = {}
    return local_request(headers)


def local_request(headers: dict) -> bool:
    """True for a request straight from this machine: no proxy forwarding headers and a Host
    (when sent) that names the loopback interface."""
    headers = {str(k).lower(): str(v) for k, v in headers.items()}
    if any(h in headers for h in FORWARDING_HEADERS):
        return False
    host = headers.get("host", "").strip()
    if not host:
        return True
    name = host[1:].split("]", 1)[0] if host.startswith("[") else host.rsplit(":", 1)[0]
    return name in LOOPBACK


def _user_attr(name: str):
    try:
        return st.user.get(name)
    except Exception:
        return None


def login_flow(lang: str) -> tuple[Role, str] | None:
    """With login configured: (role, email) of the signed-in user, or None after rendering the
    login page or the refusal (the caller stops)."""
    if not _user_attr("is_logged_in"):
        st.title(t("login_title", lang))
        st.write(t("login_text", lang))
        if st.button(t("login_button", lang), type="primary"):
            try:
                st.login()
            except Exception:  # e.g. Authlib missing or a provider setting wrong
                log.exception("login could not start")
                st.error(t("login_unavailable", lang))
        return None
    email = str(_user_attr("email") or "").strip()
    try:
        config: RoleConfig = load_role_config()
    except RoleError:
        log.exception("role configuration cannot be read")
        st.error(t("role_config_error", lang))
        return None
    role = config.role_for(email) if email else None
    if role is None:
        st.title(t("no_role_title", lang))
        st.info(t("no_role_text", lang, email=email or "?"))
        if st.button(t("logout", lang)):
            st.logout()
        return None
    return role, email


# --------------------------------------------------------------------------------------------
# Demo role picker


def demo_role_choices(src: data.Source) -> tuple[str, ...]:
    """program, each kommune, a veileder per kommune, and roles from users.toml if present."""
    from lmp_analytics.readmodels import role_picker

    extra: list[str] = []
    try:
        config = load_role_config()
        extra = [str(r) for r in config.users.values()]
        if config.default_role is not None:
            extra.insert(0, str(config.default_role))
    except RoleError:
        log.warning("role configuration cannot be read; demo offers built-in roles only")
    if not src.exists:
        return tuple(dict.fromkeys(["program", *extra]))
    try:
        # Once per published version and role file, not per run: every run of every session
        # asks (it read the warehouse each time: an eighth of the server's time with 20
        # sessions at once, issue #21).
        return data._memo.get(src, "demo_roles", tuple(extra), lambda: tuple(
            role_picker.demo_roles(warehouse=src.reads, extra=extra)))
    except Exception:
        log.warning("demo roles could not be read from the warehouse", exc_info=True)
        return tuple(dict.fromkeys(["program", *extra]))


def demo_role(choices: tuple[str, ...], labels: dict[str, str], lang: str) -> Role:
    """The role picked in the sidebar (demo mode only). On the first run ``?role=`` may
    preselect any valid role string (added to the choices); anything invalid is ignored."""
    wanted = query_param("role")
    if wanted is not None:
        try:
            wanted = str(parse_role(wanted))
        except RoleError:
            wanted = None
    if wanted is not None and wanted not in choices:
        choices = (*choices, wanted)
    if ROLE_KEY not in st.session_state or st.session_state[ROLE_KEY] not in choices:
        st.session_state[ROLE_KEY] = wanted if wanted in choices else choices[0]
    picked = st.sidebar.selectbox(
        t("role", lang), choices, key=ROLE_KEY, format_func=lambda r: labels.get(r, r))
    try:
        return parse_role(picked)
    except RoleError:
        return Role("program")


def role_label(role: Role | str, lang: str, names: dict[str, str] | None = None,
               kommuner: dict[str, str] | None = None) -> str:
    """A readable role: 'Kommune Gamleby', 'Veileder for Brekke skole, Furuly skole'."""
    r = role if isinstance(role, Role) else parse_role(role)
    if r.kind == "program":
        return t("role_program", lang)
    if r.kind == "forsker":
        return t("role_forsker", lang)
    if r.kind == "kommune":
        knr = next(iter(r.kommuner))
        name = (kommuner or {}).get(knr)
        return t("role_kommune", lang, name=f"{name} ({knr})" if name else knr)
    schools = [(names or {}).get(s, s) for s in sorted(r.schools)]
    return t("role_veileder", lang, names=", ".join(schools))


def role_labels(choices: tuple[str, ...], lang: str, names: dict[str, str],
                kommuner: dict[str, str]) -> dict[str, str]:
    """Labels for the demo picker, including a valid ``?role=`` that is not among the choices."""
    out = {r: role_label(r, lang, names, kommuner) for r in choices}
    wanted = query_param("role")
    if wanted:
        try:
            key = str(parse_role(wanted))
            out.setdefault(key, role_label(key, lang, names, kommuner))
        except RoleError:
            pass
    return out
