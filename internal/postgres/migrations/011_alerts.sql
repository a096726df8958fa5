-- Alerts (store.AlertStore, package alert): each alert's state and body (JSON), its
-- acknowledgement in columns of its own (kept while the episode, active_at, is the same);
-- silences with their reason and author; and the notification outbox: a notification is
-- stored pending before it is sent, key is unique so it is queued once. Times are unix
-- nanoseconds; NULL is "not yet".
CREATE TABLE alerts (
    key       text   COLLATE "C" PRIMARY KEY,
    state     text    NOT NULL,
    active_at bigint  NOT NULL,
    body      bytea   NOT NULL,
    acked_by  text    NOT NULL DEFAULT '',
    acked_at  bigint,
    ack_note  text    NOT NULL DEFAULT ''
);
CREATE TABLE alert_silences (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule       text    NOT NULL,
    metric     text    NOT NULL,
    scope      text    NOT NULL,
    reason     text    NOT NULL,
    author     text    NOT NULL,
    starts_at  bigint  NOT NULL,
    ends_at    bigint  NOT NULL,
    created_at bigint  NOT NULL
);
CREATE TABLE notifications (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key        text    NOT NULL UNIQUE,
    group_name text    NOT NULL,
    channel    text    NOT NULL,
    body       bytea   NOT NULL,
    state      text    NOT NULL,
    attempts   bigint  NOT NULL,
    next_at    bigint  NOT NULL,
    created_at bigint  NOT NULL,
    sent_at    bigint,
    last_error text    NOT NULL
);
CREATE INDEX notifications_due ON notifications (state, next_at);
