-- Adoption (store.AdoptionStore), as in the SQLite store: who opened which
-- page, and on it which metric or role view, per week (the Monday, UTC),
-- kept as counts. Retention replaces who by '' in old weeks, merging their
-- counts.
CREATE TABLE adoption (
    week    text   COLLATE "C" NOT NULL,
    who     text   COLLATE "C" NOT NULL,
    page    text   COLLATE "C" NOT NULL,
    subject text   COLLATE "C" NOT NULL,
    opens   bigint NOT NULL,
    PRIMARY KEY (week, who, page, subject)
);

