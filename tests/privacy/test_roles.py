"""Roles: parsing, scope in the data layer, and the users.toml configuration."""

from __future__ import annotations

import polars as pl
import pytest

from lmp_analytics import config
from lmp_analytics.privacy import (
    Role,
    RoleError,
    load_role_config,
    parse_role,
    role_for_user,
)
from lmp_analytics.privacy.scope import scope

OSLO, BERGEN = "0301", "4601"
A, B, C = "974589095", "974589109", "912345602"  # A, B in Oslo; C in Bergen


def test_parse_every_kind_and_print_it_back():
    assert parse_role("program") == Role("program")
    assert parse_role(" Forsker ") == Role("forsker")
    assert parse_role("kommune:0301") == Role("kommune", kommuner=frozenset({OSLO}))
    veileder = parse_role(f"veileder: {B} ,{A},{A}")
    assert veileder.schools == {A, B} and veileder.kommuner == frozenset()
    assert str(veileder) == f"veileder:{A},{B}"
    assert str(parse_role("kommune:0301")) == "kommune:0301"
    assert Role.parse("program").kind == "program"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "admin", "kommune", "kommune:", "kommune:301", "kommune:03011",
     "kommune:0301,4601", "kommune:abcd", "veileder:", "veileder:12345678",
     f"veileder:{A},", "veileder:97458909X", "program:0301", "forsker:x", None],
)
def test_invalid_role_strings_are_refused(text):
    with pytest.raises(RoleError) as info:
        parse_role(text)
    assert isinstance(info.value, ValueError)
    assert "role" in str(info.value)


def test_role_objects_are_checked_too():
    with pytest.raises(RoleError):
        Role("kommune")
    with pytest.raises(RoleError):
        Role("program", schools=frozenset({A}))
    with pytest.raises(RoleError):
        Role("veileder", schools=frozenset({"123"}))
    with pytest.raises(RoleError):
        Role("rektor")  # type: ignore[arg-type]


def test_scope_questions():
    kommune, veileder = parse_role("kommune:0301"), parse_role(f"veileder:{A}")
    for everything in (parse_role("program"), parse_role("forsker")):
        assert everything.includes_school(C, BERGEN) and everything.includes_kommune(BERGEN)
    assert kommune.includes_school(A, OSLO) and not kommune.includes_school(C, BERGEN)
    assert not kommune.includes_school(A)  # unknown kommune: not in scope
    assert kommune.includes_kommune(OSLO) and not kommune.includes_kommune(BERGEN)
    assert veileder.includes_school(A) and not veileder.includes_school(B, OSLO)
    assert not veileder.includes_kommune(OSLO)


def test_group_level_only_for_researchers_outside_dashboards():
    assert parse_role("forsker").may_see_groups(dashboard=False)
    assert not parse_role("forsker").may_see_groups(dashboard=True)
    for text in ("program", "kommune:0301", f"veileder:{A}"):
        assert not parse_role(text).may_see_groups(dashboard=False)


@pytest.fixture
def units() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "unit": ["program", "oslo", "bergen", "A", "B", "C", "A-5a"],
            "kommunenummer": [None, OSLO, BERGEN, OSLO, OSLO, BERGEN, OSLO],
            "skole_orgnr": [None, None, None, A, B, C, A],
            "gruppe": [None, None, None, None, None, None, "5a"],
        }
    )


@pytest.mark.parametrize(
    ("role", "dashboard", "expected"),
    [
        ("program", True, ["program", "oslo", "bergen", "A", "B", "C"]),
        ("forsker", True, ["program", "oslo", "bergen", "A", "B", "C"]),
        ("forsker", False, ["program", "oslo", "bergen", "A", "B", "C", "A-5a"]),
        ("kommune:0301", True, ["program", "oslo", "A", "B"]),
        ("kommune:0301", False, ["program", "oslo", "A", "B"]),
        (f"veileder:{A},{C}", True, ["program", "A", "C"]),
    ],
)
def test_scope_filter_on_a_frame(units, role, dashboard, expected):
    r = parse_role(role)
    got = units.filter(r.scope_filter(group_column="gruppe", dashboard=dashboard))
    assert got["unit"].to_list() == expected
    assert r.apply_scope(units, dashboard=dashboard)["unit"].to_list() == expected


def test_scope_without_aggregates_and_with_missing_columns(units):
    kommune = parse_role("kommune:0301")
    got = units.filter(kommune.scope_filter(group_column="gruppe", include_aggregates=False))
    assert got["unit"].to_list() == ["oslo", "A", "B"]
    schools_only = units.drop("kommunenummer")
    with pytest.raises(RoleError, match="no 'kommunenummer' column"):
        kommune.apply_scope(schools_only)
    veileder = parse_role(f"veileder:{B}")
    assert veileder.apply_scope(schools_only)["unit"].to_list() == [
        "program", "oslo", "bergen", "B"
    ]


USERS = f"""
default_role = "program"

[users]
"Ola@Kommune.no" = "kommune:0301"
"kari@lms.uis.no" = "veileder:{A},{B}"
"per@uis.no" = "forsker"
"""


def test_users_file_is_read_and_looked_up_case_insensitively(tmp_path):
    path = tmp_path / "users.toml"
    path.write_text(USERS, encoding="utf-8")
    cfg = load_role_config(path)
    assert cfg.role_for(" ola@kommune.NO ") == parse_role("kommune:0301")
    assert cfg.role_for("kari@lms.uis.no").schools == {A, B}
    assert cfg.role_for("nobody@example.no") == parse_role("program")
    assert role_for_user("per@uis.no", cfg) == parse_role("forsker")
    path.write_text(USERS.replace('default_role = "program"', ""), encoding="utf-8")
    assert load_role_config(path).role_for("nobody@example.no") is None


def test_users_file_from_the_environment_and_the_default_place(tmp_path, monkeypatch):
    path = tmp_path / "roles.toml"
    path.write_text(USERS, encoding="utf-8")
    monkeypatch.setenv("LMP_ROLES", str(path))
    assert role_for_user("per@uis.no") == parse_role("forsker")
    monkeypatch.setenv("LMP_ROLES", str(tmp_path / "missing.toml"))
    with pytest.raises(RoleError, match="not found"):
        load_role_config()
    monkeypatch.delenv("LMP_ROLES")
    monkeypatch.setattr(config, "PROJECT_ROOT", tmp_path)  # no users.toml there: nobody set up
    assert load_role_config().users == {}
    assert role_for_user("per@uis.no") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[users]\n"ola@kommune.no" = "kommune:301"\n', "user 'ola@kommune.no'"),
        ('[users]\n"ola@kommune.no" = 301\n', "must be a string"),
        ('[users]\n"Ola@x.no" = "program"\n"ola@x.no" = "forsker"\n', "listed twice"),
        ('[user]\n"ola@x.no" = "program"\n', "unknown key"),
        ('default_role = "boss"\n', "default_role"),
        ("[users\n", "not valid TOML"),
    ],
)
def test_bad_users_files_name_the_file_and_the_problem(tmp_path, text, message):
    path = tmp_path / "users.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RoleError, match=message) as info:
        load_role_config(path)
    assert str(path) in str(info.value)


@pytest.fixture
def published() -> pl.DataFrame:
    """Rows shaped like the publication: every level, keys as the marts fill them."""
    return pl.DataFrame(
        {
            "unit": ["program", "pulje1", "oslo", "bergen", "A", "B", "C", "A-5a"],
            "level": ["program", "pulje", "kommune", "kommune", "skole", "skole", "skole",
                      "gruppe"],
            "kommunenummer": [None, None, OSLO, BERGEN, OSLO, OSLO, BERGEN, OSLO],
            "skole_orgnr": [None, None, None, None, A, B, C, A],
            "gruppe": [None, None, None, None, None, None, None, "5a"],
        }
    )


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("program", ["program", "pulje1", "oslo", "bergen", "A", "B", "C"]),
        ("forsker", ["program", "pulje1", "oslo", "bergen", "A", "B", "C", "A-5a"]),
        ("kommune:0301", ["program", "pulje1", "oslo", "A", "B"]),
        ("kommune:4601", ["program", "pulje1", "bergen", "C"]),
        (f"veileder:{A}", ["program", "pulje1", "A"]),
        (f"veileder:{B},{C}", ["program", "pulje1", "B", "C"]),
    ],
)
def test_api_scope_is_the_role_scope_outside_dashboards(published, role, expected):

    got = scope(published, role, "cli")["unit"].to_list()
    assert got == expected
    assert got == parse_role(role).apply_scope(published, dashboard=False)["unit"].to_list()
    # frames without a group column (compare, views) are scoped by school and kommune alone
    no_groups = published.filter(pl.col("level") != "gruppe").drop("gruppe")
    assert scope(no_groups, role, "cli")["unit"].to_list() == [u for u in expected if u != "A-5a"]


def test_api_scope_needs_kommunenummer_for_a_kommune_role(published):

    with pytest.raises(RoleError, match="no 'kommunenummer' column"):
        scope(published.drop("kommunenummer"), "kommune:0301", "cli")
