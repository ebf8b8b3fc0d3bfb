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
