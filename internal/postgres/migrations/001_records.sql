-- Every record of every kind lives in one table, as in the SQLite store:
-- the metric engine keeps its own indexes in memory, so the store's job is
-- durable, ordered, idempotent storage with provenance. Times are unix
-- nanoseconds, not timestamptz, so values round-trip exactly and match
-- what the SQLite store keeps (timestamptz stops at microseconds). The key
-- columns use the "C" collation: keys are compared for equality, never
-- sorted for people, and byte comparison keeps the unique index fast
-- whatever locale the database was created with.
CREATE TABLE records (
    seq         bigint NOT NULL,
    kind        text   COLLATE "C" NOT NULL,
    source      text   COLLATE "C" NOT NULL,
    id          text   COLLATE "C" NOT NULL,
    ingested_at bigint NOT NULL,
    event_time  bigint,          -- NULL for reference data
    hash        text   NOT NULL, -- sha256 of the canonical body (raw_hash, migration 003, holds the input's)
    body        bytea  NOT NULL, -- canonical JSON; bytea skips jsonb parsing on write
    CONSTRAINT records_pkey PRIMARY KEY (seq),
    CONSTRAINT records_key UNIQUE (kind, source, id)
);
