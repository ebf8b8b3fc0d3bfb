-- Recorded properties of the warehouse (lmp_analytics/warehouse/meta.py), one per `-- name:`.

-- name: has_pupils
SELECT EXISTS (SELECT 1 FROM fct_response) OR EXISTS (SELECT 1 FROM fct_nomination);
