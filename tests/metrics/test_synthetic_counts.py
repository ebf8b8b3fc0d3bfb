"""On a small synthetic world: mart counts at school x round equal a direct count from the raw
export files (read here with polars, independently of the ingest), and levels add up."""

from __future__ import annotations

import dataclasses
import io

import polars as pl
import pytest

from lmp_analytics.codebook import load_codebook, normalise_label
from lmp_analytics.metrics.marts import build_marts
from lmp_analytics.pipeline import ingest_files
from lmp_analytics.synth import write_world
from lmp_analytics.synth.params import Params
from lmp_analytics.warehouse import reading

KEY = b"synthetic-counts-test-key-0123456789abcdef"


def _read(path) -> pl.DataFrame:
    if path.suffix == ".xlsx":
        return pl.read_excel(path, infer_schema_length=0)
    raw = path.read_bytes()
    text = raw[3:].decode() if raw.startswith(b"\xef\xbb\xbf") else (
        raw.decode("utf-8") if _is_utf8(raw) else raw.decode("cp1252"))
    sep = ";" if text.split("\n", 1)[0].count(";") else ","
    return pl.read_csv(io.BytesIO(text.encode()), separator=sep, infer_schema=False)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("world")
    params = dataclasses.replace(
        Params(), n_kommuner=2, puljer=(("2023H", 2), ("2024V", 2)), n_comparison=3,
        first_term="2022H", last_term="2024H",
        # Comparison schools with Spekter rounds (not the default world): the direct count is
        # checked over both groups (rolle) and over more than ten rounds.
        comparison_spekter=True,
    )
    write_world(root, seed=11, params=params)
    wh = root / "w.duckdb"
    report = ingest_files([root / "spekter"], root / "program.csv", warehouse=wh, key=KEY,
                          after_load=build_marts)
    assert report.exit_code == 0
    return root, wh


def test_school_round_counts_equal_a_direct_count_from_the_files(world):
    root, wh = world
    labels = {}
    for version in ("spekter-2018", "spekter-2022-forebyggende", "spekter-2022-mistanke"):
        for lab in load_codebook(version).scales["hyppighet"].labels:
            labels[normalise_label(lab.nb)] = lab.code
            labels[str(lab.code)] = lab.code
    rows = []
    for path in sorted((root / "spekter").iterdir()):
        frame = _read(path)
        for rec in frame.select("skole_orgnr", "dato", "versjon", "mobbet").iter_rows():
            orgnr, dato, versjon, answer = rec
            if answer is None:
                continue
            year, month = (int(dato[:4]), int(dato[5:7])) if "-" in dato else (
                int(dato[6:10]), int(dato[3:5]))
            term = f"{year}{'H' if month >= 8 else 'V'}"
            code = labels[normalise_label(answer.replace(".0", ""))]
            rows.append((f"{orgnr}:{term}:{versjon}:1", code))
    direct = (
        pl.DataFrame(rows, schema=["round", "code"], orient="row")
        .group_by("round").agg(pl.len().alias("n"), (pl.col("code") >= 3).sum().alias("count"))
        .sort("round")
    )
    with reading(wh) as con:
        mart = con.sql(
            "SELECT round_id AS round, n, CAST(count AS BIGINT) AS count "
            "FROM mart_indicator_counts WHERE level = 'skole' AND breakdown = 'alle' "
            "AND indicator = 'mobbet' ORDER BY round_id"
        ).pl()
    assert mart.height == direct.height > 10
    assert mart.with_columns(pl.col("n").cast(pl.UInt32), pl.col("count").cast(pl.UInt32)
                             ).equals(direct)
