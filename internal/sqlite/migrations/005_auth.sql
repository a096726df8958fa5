-- Users, sessions and API tokens (store.AuthStore): mutable rows, unlike
-- the append-only docs, whose "access" collection keeps the event of every
-- change made here. Secrets are never stored: sessions and tokens keep the
-- SHA-256 of theirs, users a self-describing password hash. Times are unix
-- nanoseconds; NULL means "not yet" (never used, not disabled, active).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    roles         TEXT    NOT NULL, -- JSON array of role ids
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER
);
CREATE TABLE sessions (
    hash       TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    client     TEXT    NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    lookup     TEXT    NOT NULL UNIQUE,
    hash       TEXT    NOT NULL,
    roles      TEXT    NOT NULL, -- JSON array of role ids
    owner_id   INTEGER REFERENCES users (id),
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    last_used  INTEGER,
    revoked_at INTEGER
);
-- A name picks one active token (candor token revoke --name); a revoked
-- token's name may be used again.
CREATE UNIQUE INDEX tokens_active_name ON tokens (name) WHERE revoked_at IS NULL;
CREATE INDEX tokens_owner ON tokens (owner_id);
