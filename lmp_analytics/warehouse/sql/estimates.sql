-- The estimates computed at publish time (lmp_analytics/warehouse/registry.py, targets
-- `estimates` and `national_estimates`): pages and commands read them, never fit them.
-- Written from frames by lmp_analytics.jobs.build_estimates and
-- lmp_analytics.evaluation.national_view.build_national_estimates; `{table}` / `{frame}` are
-- identifiers filled in by the caller.

-- name: inputs_fingerprint
-- What the Spekter estimates are computed from: every round's fingerprint as the marts last
-- saw it, the inputs of the change table and the publication (schools, phases, indicator
-- definitions, threshold). Equal fingerprints: nothing to recompute.
SELECT md5(coalesce(string_agg(unit || ':' || fp, ',' ORDER BY unit), '')
           || '/' || coalesce((SELECT value FROM meta WHERE key = 'school_change_inputs'), '')
           || '/' || coalesce((SELECT value FROM meta WHERE key = 'publication_inputs'), ''))
FROM build_state WHERE target = 'marts';

-- name: national_inputs_fingerprint
-- What the national designs are computed from: the Elevundersøkelsen files loaded (their
-- content hashes) and the roster's schools and phases.
SELECT md5(coalesce((SELECT string_agg(sha256, ',' ORDER BY sha256) FROM eu_ingest_log), '')
           || '/' || coalesce((SELECT md5(string_agg(d::VARCHAR, ',' ORDER BY d::VARCHAR))
                                FROM dim_school d), '')
           || '/' || coalesce((SELECT md5(string_agg(p::VARCHAR, ',' ORDER BY p::VARCHAR))
                                FROM dim_phase p), ''));

-- name: drop_table
DROP TABLE IF EXISTS {table};

-- name: landing_rows
-- One role key's and indicator's stored landing panel, phases in order.
SELECT * FROM mart_landing_panel WHERE role = ? AND indicator = ? ORDER BY phase_order;

-- name: event_rows
SELECT * FROM mart_event_study WHERE indicator = ? ORDER BY e;

-- name: event_summary_rows
SELECT * FROM mart_event_summary WHERE indicator = ? ORDER BY estimate_order;

-- name: event_info_row
SELECT * FROM mart_event_info WHERE indicator = ?;

-- name: national_result_rows
SELECT * FROM mart_national_results WHERE indicator = ? AND selection_years = ?
ORDER BY row_order;

-- name: national_event_rows
SELECT * FROM mart_national_event_study WHERE indicator = ? AND selection_years = ?
ORDER BY row_order;
