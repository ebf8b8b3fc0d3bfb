-- Counts behind the per-school changes (lmp_analytics/evaluation/change_table.py).
-- `change_pairs` is a registered frame (pair_id, pre_round, post_round; a round may be null); `?` is the list of indicators wanted. A pupil answers a round once (the ingest
-- enforces it), so (round_id, elev, indicator) is unique among non-null values.

-- name: round_totals
-- Per round and indicator: respondents (non-null values), their sum (the count for a share),
-- mean and sample variance (scales). Summed exactly as in marts.sql: a pupil's value times
-- 720720 (lcm of 1..16) is an integer, so the sums are integers and the same facts give the same
-- bits whatever order DuckDB's threads add them in (avg/var_samp of doubles do not).
WITH v AS (
    SELECT round_id, indicator, CAST(round(value * 720720) AS HUGEINT) AS x
    FROM fct_pupil_indicator
    WHERE value IS NOT NULL AND list_contains(?, indicator) AND list_contains(?, term)
      AND round_id IN (SELECT pre_round FROM change_pairs UNION SELECT post_round FROM change_pairs)
),
s AS (
    SELECT round_id, indicator, count(*) AS n, sum(x) AS sx, sum(x * x) AS sxx
    FROM v GROUP BY round_id, indicator
)
SELECT round_id, indicator, n, sx::DOUBLE / 720720 AS total, sx::DOUBLE / 720720 / n AS mean,
       CASE WHEN n > 1 THEN (n * sxx - sx * sx)::DOUBLE / (n * (n - 1)) / 519437318400 END
           AS var
FROM s;

-- name: linked_counts
-- Per pair and indicator, the pupils answering in both rounds (same pseudonym): the paired
-- table a (1,1), b (1,0), c (0,1), d (0,0) of a share, and for a scale the mean and sample
-- variance of the differences post - pre and the Wilcoxon signed-rank sums over the non-zero
-- differences (average ranks of |d|): n_nonzero, r_plus and the tie term sum(t^3 - t).
WITH wanted AS (
    SELECT round_id, elev, indicator, kind, value
    FROM fct_pupil_indicator
    WHERE value IS NOT NULL AND elev IS NOT NULL AND list_contains(?, indicator)
      AND list_contains(?, term)
      AND round_id IN (SELECT pre_round FROM change_pairs UNION SELECT post_round FROM change_pairs)
),
linked AS (
    SELECT p.pair_id, a.indicator, a.kind, a.value AS v0, b.value AS v1, b.value - a.value AS d
    FROM change_pairs AS p
    JOIN wanted AS a ON a.round_id = p.pre_round
    JOIN wanted AS b ON b.round_id = p.post_round AND b.elev = a.elev
                    AND b.indicator = a.indicator
),
counts AS (
    SELECT pair_id, indicator, count(*) AS linked_n,
           count(*) FILTER (WHERE v0 = 1 AND v1 = 1) AS a,
           count(*) FILTER (WHERE v0 = 1 AND v1 = 0) AS b,
           count(*) FILTER (WHERE v0 = 0 AND v1 = 1) AS c,
           count(*) FILTER (WHERE v0 = 0 AND v1 = 0) AS d,
           sum(x) AS sx, sum(x * x) AS sxx
    FROM (SELECT *, CAST(round(d * 720720) AS HUGEINT) AS x FROM linked)
    GROUP BY pair_id, indicator
),
ties AS (
    SELECT pair_id, indicator, abs(d) AS ad, count(*) AS t, count(*) FILTER (WHERE d > 0) AS pos
    FROM linked
    WHERE kind = 'scale' AND d <> 0
    GROUP BY pair_id, indicator, abs(d)
),
ranked AS (
    SELECT *, coalesce(sum(t) OVER (PARTITION BY pair_id, indicator ORDER BY ad
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS below
    FROM ties
),
signed AS (
    -- a tie group of t values of |d| above `below` smaller ones has average rank below + (t+1)/2
    SELECT pair_id, indicator, sum(t) AS n_nonzero,
           sum(pos * (below + (t + 1) / 2.0)) AS r_plus,
           sum(t * t * t - t)::DOUBLE AS tie_term
    FROM ranked
    GROUP BY pair_id, indicator
)
-- mean and sample variance of d from the exact integer sums (see round_totals)
SELECT c.* EXCLUDE (sx, sxx), c.sx::DOUBLE / 720720 / c.linked_n AS d_mean,
       CASE WHEN c.linked_n > 1
            THEN (c.linked_n * c.sxx - c.sx * c.sx)::DOUBLE / (c.linked_n * (c.linked_n - 1))
                 / 519437318400 END AS d_var,
       coalesce(s.n_nonzero, 0) AS n_nonzero, coalesce(s.r_plus, 0) AS r_plus,
       coalesce(s.tie_term, 0) AS tie_term
FROM counts AS c
LEFT JOIN signed AS s USING (pair_id, indicator);

-- name: pupil_values
-- Pupil values of some rounds (registered frame `wanted_rounds`) and one indicator.
SELECT p.round_id, p.elev, p.value
FROM fct_pupil_indicator AS p
JOIN wanted_rounds AS w USING (round_id)
WHERE p.value IS NOT NULL AND p.indicator = ?
ORDER BY p.round_id, p.elev;  -- a fixed order: the means and variances numpy takes of them

-- name: indicator_kinds
SELECT indicator, any_value(kind) AS kind FROM dim_indicator_item GROUP BY indicator
ORDER BY indicator;

-- name: inputs_fingerprint
-- What decides which pairs exist and how every row is computed besides the round facts: the
-- schools' role and cohort, the phase calendar and the indicator definitions (min_n is added by
-- the caller). Names and kommune are joined at read time, so renaming a school or moving it to
-- another kommune (a merger) does not force a full rebuild.
SELECT (SELECT count(*) || ':' || coalesce(bit_xor(hash(skole_orgnr, rolle, pulje, oppstart)), 0)
        FROM dim_school) || '/' ||
       (SELECT count(*) || ':' || coalesce(bit_xor(hash(skole_orgnr, fase, termin, kilde)), 0)
        FROM dim_phase) || '/' ||
       (SELECT count(*) || ':' || coalesce(bit_xor(hash(versjon, indicator, kind, item,
                is_reversed, threshold, min_items, top_threshold)), 0)
        FROM dim_indicator_item);

-- name: read_changes
-- Stored changes of one indicator: phases in `?` (list), schools in `?` (list, or NULL = all),
-- in the order the on-the-fly computation returns them.
SELECT c.* EXCLUDE (phase_rank, post_date)
FROM mart_school_change AS c
WHERE c.indicator = ? AND list_contains(?, c.phase)
  AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], c.skole_orgnr))
ORDER BY c.skole_orgnr, c.phase_rank, c.post_date;

-- name: stored_pairs
SELECT DISTINCT skole_orgnr, phase, pre_round, post_round FROM mart_school_change;

-- name: delete_pairs
-- Drop the stored rows of the pairs in the registered frame `stale_pairs`.
DELETE FROM mart_school_change AS c
WHERE EXISTS (
    SELECT 1 FROM stale_pairs AS s
    WHERE s.skole_orgnr = c.skole_orgnr AND s.phase = c.phase
      AND s.pre_round IS NOT DISTINCT FROM c.pre_round
      AND s.post_round IS NOT DISTINCT FROM c.post_round
);

-- name: changed_round_ids
SELECT round_id FROM school_change_changed;
