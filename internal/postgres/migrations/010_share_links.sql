-- Share links (store.ShareStore): a read-only link to one card, chart or view at fixed filters,
-- opened without signing in. Only the SHA-256 of the link's secret is kept; lookup is its public
-- part. creator_kind and creator_id name the user or token that created it: the link never shows
-- more than that principal may see. Times are unix nanoseconds as in the SQLite store;
-- revoked_at NULL means active.
CREATE TABLE share_links (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lookup       text   COLLATE "C" NOT NULL UNIQUE,
    hash         text   NOT NULL,
    kind         text   NOT NULL,
    subject      text   NOT NULL,
    query        text   NOT NULL,
    creator_kind text   NOT NULL,
    creator_id   bigint NOT NULL,
    created_by   text   NOT NULL,
    created_at   bigint NOT NULL,
    expires_at   bigint NOT NULL,
    revoked_at   bigint,
    revoked_by   text   NOT NULL DEFAULT ''
);
