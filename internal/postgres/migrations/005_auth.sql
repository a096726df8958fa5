-- Users, sessions and API tokens (store.AuthStore): mutable rows, unlike
-- the append-only docs, whose "access" collection keeps the event of every
-- change made here. Secrets are never stored: sessions and tokens keep the
-- SHA-256 of theirs, users a self-describing password hash. Times are unix
-- nanoseconds as in the SQLite store; NULL means "not yet" (never used,
-- not disabled, active). "C" collation: compared byte for byte, as there.
CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text   COLLATE "C" NOT NULL UNIQUE,
    name          text   NOT NULL,
    roles         text   NOT NULL, -- JSON array of role ids
    password_hash text   NOT NULL,
    created_at    bigint NOT NULL,
    disabled_at   bigint
);
CREATE TABLE sessions (
    hash       text   COLLATE "C" PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id),
    created_at bigint NOT NULL,
    last_seen  bigint NOT NULL,
    expires_at bigint NOT NULL,
    client     text   NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE TABLE tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text   COLLATE "C" NOT NULL,
    lookup     text   COLLATE "C" NOT NULL UNIQUE,
    hash       text   NOT NULL,
    roles      text   NOT NULL, -- JSON array of role ids
    owner_id   bigint REFERENCES users (id),
    created_by text   NOT NULL,
    created_at bigint NOT NULL,
    last_used  bigint,
    revoked_at bigint
);
-- A name picks one active token (candor token revoke --name); a revoked
-- token's name may be used again.
CREATE UNIQUE INDEX tokens_active_name ON tokens (name) WHERE revoked_at IS NULL;
CREATE INDEX tokens_owner ON tokens (owner_id);
