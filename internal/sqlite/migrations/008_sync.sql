-- The pull collectors (internal/connect, candor sync): a cursor per stream a
-- collector walks (a repository's pull requests, a project's deployments),
-- saved once the page before it committed, so a run that stops resumes where
-- it stopped; and a log of runs (store.SyncStore), which the data sources
-- report reads for each collector's last successful sync and its errors.
CREATE TABLE sync_cursors (
    source   TEXT    NOT NULL,
    stream   TEXT    NOT NULL,
    cursor   TEXT    NOT NULL, -- the collector's own JSON, opaque to the store
    saved_at INTEGER NOT NULL, -- unix nanoseconds
    PRIMARY KEY (source, stream)
);
CREATE TABLE sync_runs (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    source      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL, -- unix nanoseconds
    finished_at INTEGER NOT NULL,
    outcome     TEXT    NOT NULL, -- ok, failed
    error       TEXT    NOT NULL,
    pages       INTEGER NOT NULL,
    accepted    INTEGER NOT NULL,
    ignored     INTEGER NOT NULL,
    rejected    INTEGER NOT NULL,
    inserted    INTEGER NOT NULL,
    replaced    INTEGER NOT NULL,
    unchanged   INTEGER NOT NULL,
    problems    TEXT    NOT NULL  -- JSON array: the rejected objects with their reasons
);
CREATE INDEX sync_runs_source ON sync_runs (source, finished_at);
-- The data sources report counts each source's deliveries by outcome over a
-- period and finds its last successful one: with the outcome in the index
-- both read the index alone. It replaces the index without it (same number
-- of index writes per delivery).
DROP INDEX deliveries_received;
CREATE INDEX deliveries_received ON deliveries (source, received_at, outcome);
