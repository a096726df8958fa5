-- Provenance: the sha256 of the raw input line a record was made from.
ALTER TABLE records ADD COLUMN raw_hash TEXT NOT NULL DEFAULT '';
