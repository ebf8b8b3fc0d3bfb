-- Reads of the stored publication (pub_indicator_cells), one per `-- name:` block.
-- Every filter is optional: a NULL parameter means "any".

-- name: published_cells
-- Rows of one level ($1), breakdown ($2), indicators ($3), schools ($4), and within a role's
-- municipalities ($5) or schools ($6): rows above municipality level (no school and no
-- kommune) always pass the role filters. Stored order (the callers' order) is kept.
SELECT * FROM pub_indicator_cells
WHERE ($1::VARCHAR IS NULL OR level = $1)
  AND ($2::VARCHAR IS NULL OR breakdown = $2)
  AND ($3::VARCHAR[] IS NULL OR list_contains($3, indicator))
  AND ($4::VARCHAR[] IS NULL OR list_contains($4, skole_orgnr))
  AND ($5::VARCHAR[] IS NULL OR list_contains($5, kommunenummer)
       OR (skole_orgnr IS NULL AND kommunenummer IS NULL))
  AND ($6::VARCHAR[] IS NULL OR list_contains($6, skole_orgnr)
       OR (skole_orgnr IS NULL AND kommunenummer IS NULL));

-- name: published_any
-- Whether the publication has any row of one level ($1) and indicators ($2; NULL = any).
SELECT EXISTS (
    SELECT 1 FROM pub_indicator_cells
    WHERE level = $1 AND ($2::VARCHAR[] IS NULL OR list_contains($2, indicator))
);

-- name: hidden_school_cells
-- The (round, school) pairs whose school cell (all pupils) of any of the indicators ($1; NULL =
-- any) is hidden in the stored publication (a NULL flag counts as hidden).
SELECT DISTINCT round, skole_orgnr FROM pub_indicator_cells
WHERE level = 'skole' AND breakdown = 'alle' AND coalesce(suppressed, true)
  AND ($1::VARCHAR[] IS NULL OR list_contains($1, indicator))
ORDER BY round, skole_orgnr;
