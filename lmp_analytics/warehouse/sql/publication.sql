-- The suppressed publication (pub_indicator_cells) and what it was built from.

-- name: indicators
SELECT DISTINCT indicator FROM mart_indicator_counts ORDER BY indicator;

-- name: inputs
-- What every cell of the publication depends on besides its own component's marts: the schools
-- and indicator definitions (as the marts fingerprint them) and the indicator set.
SELECT (SELECT count(*) || ':' || coalesce(bit_xor(hash(skole_orgnr, skole, kommunenummer,
                kommune, rolle, pulje, oppstart)), 0)
        FROM dim_school) || '/' ||
       (SELECT count(*) || ':' || coalesce(bit_xor(hash(versjon, indicator, kind, item,
                is_reversed, threshold, min_items, top_threshold)), 0)
        FROM dim_indicator_item) || '/' ||
       (SELECT coalesce(string_agg(DISTINCT indicator, ',' ORDER BY indicator), '')
        FROM dim_indicator_item);

-- name: component_fingerprints
-- One fingerprint per (term, rolle) of the round fingerprints the marts were last built from
-- ({rounds}: the marts' round state in the build engine). A component's cells are made from exactly these rounds' marts
-- (schools are covered by the inputs above), so an unchanged fingerprint means unchanged cells.
CREATE OR REPLACE TEMP TABLE pub_fingerprint_now AS
SELECT s.term, d.rolle, count(*) AS n, bit_xor(hash(s.round_id, s.n, s.fp)) AS fp
FROM {rounds} AS s
LEFT JOIN mart_school_round AS r USING (round_id)
LEFT JOIN dim_school AS d ON d.skole_orgnr = r.skole_orgnr
GROUP BY ALL;

-- name: changed_terms
-- pub_changed: the engine's changed (term, rolle) components.
SELECT DISTINCT term FROM pub_changed ORDER BY term;

-- name: delete_changed
-- A changed component without a rolle (a round of no known school) redoes its whole term.
DELETE FROM pub_indicator_cells AS p
WHERE EXISTS (SELECT 1 FROM pub_changed AS c
              WHERE c.term = p.term AND (c.rolle IS NULL OR c.rolle = p.rolle));

-- name: changed_rows
-- The stored rows of the changed components with their rowids (to delete those that changed).
-- $1: the changed terms as a list (a constant filter DuckDB can skip row groups with).
SELECT p.rowid AS __rowid, p.* FROM pub_indicator_cells AS p
WHERE list_contains($1, p.term)
  AND EXISTS (SELECT 1 FROM pub_changed AS c
              WHERE c.term = p.term AND (c.rolle IS NULL OR c.rolle = p.rolle));

-- name: delete_rows
-- The rows whose rowids are in the registered frame `stale` (rowids of this transaction's table).
DELETE FROM pub_indicator_cells WHERE rowid IN (SELECT __rowid FROM stale);

-- name: changed_marts
-- The published levels of the changed components' marts (all a component's cells come from).
-- $1: the changed terms as a list (a constant filter DuckDB can skip row groups with).
SELECT m.* FROM mart_indicator_counts AS m
WHERE list_contains($1, m.term) AND m.level <> 'gruppe'
  AND EXISTS (SELECT 1 FROM pub_changed AS c
              WHERE c.term = m.term AND (c.rolle IS NULL OR c.rolle = m.rolle));

-- name: changed_school_rounds
SELECT * FROM mart_school_round WHERE list_contains($1, term);

-- name: all_schools
SELECT * FROM dim_school;

-- name: scratch_table
-- A table of the in-memory scratch warehouse from the registered frame `rows`.
CREATE TABLE {table} AS SELECT * FROM rows;

-- name: drop_publication
DROP TABLE IF EXISTS pub_indicator_cells;

-- name: cells_fingerprint
-- Everything a publication's cells are computed from (the marts, the schools and the indicator
-- definitions): equal fingerprints, equal cells at any threshold. Keys a stricter reader's cache.
SELECT (SELECT count(*) || ':' || coalesce(bit_xor(hash(m)), 0)
        FROM mart_indicator_counts AS m) || '/' ||
       (SELECT count(*) || ':' || coalesce(bit_xor(hash(r)), 0)
        FROM mart_school_round AS r) || '/' ||
       (SELECT count(*) || ':' || coalesce(bit_xor(hash(s)), 0) FROM dim_school AS s) || '/' ||
       (SELECT count(*) || ':' || coalesce(bit_xor(hash(i)), 0)
        FROM dim_indicator_item AS i);
