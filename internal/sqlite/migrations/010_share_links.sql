-- Share links (store.ShareStore): a read-only link to one card, chart or view at fixed filters,
-- opened without signing in. Only the SHA-256 of the link's secret is kept; lookup is its public
-- part. creator_kind and creator_id name the user or token that created it: the link never shows
-- more than that principal may see. Times are unix nanoseconds; revoked_at NULL means active.
CREATE TABLE share_links (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    lookup       TEXT    NOT NULL UNIQUE,
    hash         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    query        TEXT    NOT NULL,
    creator_kind TEXT    NOT NULL,
    creator_id   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    revoked_by   TEXT    NOT NULL DEFAULT ''
);
