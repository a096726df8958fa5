-- Adoption (store.AdoptionStore): who opened which page, and on it which
-- metric or role view, per week (the Monday, UTC), kept as counts: no
-- content, no times finer than the week. Retention replaces who by '' in
-- old weeks, merging their counts.
CREATE TABLE adoption (
    week    TEXT    NOT NULL, -- YYYY-MM-DD, the week's Monday (UTC)
    who     TEXT    NOT NULL, -- user:EMAIL or token:NAME; '' once forgotten
    page    TEXT    NOT NULL, -- the route, "GET /metrics/{id}"
    subject TEXT    NOT NULL, -- metric:ID or view:ID; '' for none
    opens   INTEGER NOT NULL,
    PRIMARY KEY (week, who, page, subject)
);

