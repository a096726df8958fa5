-- Append-only documents (store.DocStore): things Candor produces and must
-- keep, such as reconciliation results, in named collections read newest
-- first. AUTOINCREMENT so an id is never reused; the triggers make the
-- append-only promise hold for anything that writes to the file.
CREATE TABLE docs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    collection  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL, -- unix nanoseconds
    body        BLOB    NOT NULL
);
CREATE INDEX docs_collection ON docs (collection, id);
CREATE TRIGGER docs_no_update BEFORE UPDATE ON docs
BEGIN
    SELECT RAISE(ABORT, 'docs are append-only');
END;
CREATE TRIGGER docs_no_delete BEFORE DELETE ON docs
BEGIN
    SELECT RAISE(ABORT, 'docs are append-only');
END;
