"""The Tilstandsrapport page (AppTest): a kommune role gets only its own municipality, the
download is the bytes of `lmp tilstandsrapport`'s function and is audited, in nynorsk."""

from __future__ import annotations

import shutil

from dash_helpers import app, problems, texts

from lmp_analytics.reports.tilstand import render_tilstand
from lmp_analytics.warehouse.audit import read_log

PAGE = "app_pages/tilstandsrapport.py"


def test_tilstandsrapport_page_downloads_the_chapter_for_the_roles_own_kommune(
        env, roster, tmp_path, monkeypatch, downloads):
    wh = tmp_path / "w.duckdb"
    shutil.copyfile(env["warehouse"], wh)
    monkeypatch.setenv("LMP_WAREHOUSE", str(wh))  # the audit row is written to this copy
    own, other = roster["kommuner"][0], roster["kommuner"][1]
    role = f"kommune:{own}"
    at = app(role=role, lang="nn")
    at.run()
    at.switch_page(PAGE).run()
    assert not problems(at), problems(at)
    assert at.title[0].value == "Tilstandsrapport"
    blob = "\n".join(texts(at, main_only=True))
    assert "Skuleår" in blob and "tilstand." not in blob and "tr_" not in blob
    picker = at.selectbox(key="tr_kommune")
    assert picker.options and all(f"({own})" in o for o in picker.options)
    assert not any(f"({other})" in o for o in picker.options)
    year = at.selectbox(key="tr_year").value
    at.radio(key="tr_format").set_value("html").run()
    at.button(key="tr_make").click().run(timeout=180)
    assert not problems(at), problems(at)
    got = [d for d in downloads if str(d["file_name"]).startswith("lmp-tilstandsrapport-")]
    assert got and got[-1]["file_name"] == f"lmp-tilstandsrapport-{own}-{year}-nn.html"
    assert got[-1]["data"] == render_tilstand(own, year, fmt="html", lang="nn", role=role,
                                              warehouse=wh)
    assert [(e["role"], e["action"], e["scope"]) for e in read_log(wh)] == [
        (role, "tilstandsrapport", f"kommune {own}")]
