-- Every record of every kind lives in one table: the metric engine keeps
-- its own indexes in memory, so the store's job is durable, ordered,
-- idempotent storage with provenance. seq is the rowid: scanning new data
-- in seq order is a plain b-tree walk.
CREATE TABLE records (
    seq         INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    ingested_at INTEGER NOT NULL, -- unix nanoseconds
    event_time  INTEGER,          -- unix nanoseconds, NULL for reference data
    hash        TEXT    NOT NULL, -- sha256 of the canonical body (raw_hash, migration 003, holds the input's)
    body        BLOB    NOT NULL  -- canonical JSON
);
CREATE UNIQUE INDEX records_key ON records (kind, source, id);
