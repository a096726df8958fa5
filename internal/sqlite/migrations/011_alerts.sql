-- Alerts (store.AlertStore, package alert): each alert's state and body (JSON), its
-- acknowledgement in columns of its own (kept while the episode, active_at, is the same);
-- silences with their reason and author; and the notification outbox: a notification is
-- stored pending before it is sent, key is unique so it is queued once. Times are unix
-- nanoseconds; NULL is "not yet".
CREATE TABLE alerts (
    key       TEXT    PRIMARY KEY,
    state     TEXT    NOT NULL,
    active_at INTEGER NOT NULL,
    body      BLOB    NOT NULL,
    acked_by  TEXT    NOT NULL DEFAULT '',
    acked_at  INTEGER,
    ack_note  TEXT    NOT NULL DEFAULT ''
);
CREATE TABLE alert_silences (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    rule       TEXT    NOT NULL,
    metric     TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    author     TEXT    NOT NULL,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    key        TEXT    NOT NULL UNIQUE,
    group_name TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    body       BLOB    NOT NULL,
    state      TEXT    NOT NULL,
    attempts   INTEGER NOT NULL,
    next_at    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at    INTEGER,
    last_error TEXT    NOT NULL
);
CREATE INDEX notifications_due ON notifications (state, next_at);
