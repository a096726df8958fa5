-- Provenance: the sha256 of the raw input a record was made from (the
-- NDJSON line, or the CSV header and cells). Records written before this
-- migration have none.
ALTER TABLE records ADD COLUMN raw_hash text NOT NULL DEFAULT '';
