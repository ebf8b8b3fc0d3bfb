-- Reads of the national school panel (lmp_analytics.evaluation.national_panel), one per block.

-- name: school_results
-- School-level Elevundersøkelsen results of one indicator, totals only (all pupils, all owner
-- types); value is NULL exactly when Udir suppressed the cell.
SELECT unit_code AS skole_orgnr, survey_year, trinn, value, n_answered, suppressed,
       series_version, preliminary
FROM fct_eu_result
WHERE level = 'skole' AND kjonn = 'alle' AND eierform = 'alle'
  AND indicator_code = ? AND trinn IS NOT NULL AND unit_code IS NOT NULL
ORDER BY skole_orgnr, survey_year, trinn;

-- name: lmp_phase1
-- LMP schools of the roster with their pulje and the term phase 1 ran in.
SELECT s.skole_orgnr, s.kommunenummer, s.pulje, p.termin AS phase1_term
FROM dim_school AS s
JOIN dim_phase AS p ON p.skole_orgnr = s.skole_orgnr AND p.fase = 1
WHERE s.rolle = 'deltaker'
ORDER BY s.skole_orgnr;

-- name: lmp_school_names
-- The LMP schools of the roster with their names (a municipality sees only its own).
SELECT skole_orgnr, skole, kommunenummer
FROM dim_school
WHERE rolle = 'deltaker'
ORDER BY skole_orgnr;

-- name: has_school_results
-- Whether any school-level Elevundersøkelsen result is loaded (the national panel needs them).
SELECT count(*) > 0 FROM fct_eu_result WHERE level = 'skole';
