-- Append-only documents (store.DocStore): things Candor produces and must
-- keep, such as reconciliation results, in named collections read newest
-- first. An identity column never hands out an id twice, even after a
-- rollback; the triggers make the append-only promise hold for anything
-- that writes to the database, not only Candor.
CREATE TABLE docs (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    collection text   COLLATE "C" NOT NULL,
    created_at bigint NOT NULL, -- unix nanoseconds
    body       bytea  NOT NULL
);
CREATE INDEX docs_collection ON docs (collection, id);

CREATE FUNCTION docs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'docs are append-only';
END
$$;
CREATE TRIGGER docs_no_change BEFORE UPDATE OR DELETE ON docs
    FOR EACH ROW EXECUTE FUNCTION docs_append_only();
CREATE TRIGGER docs_no_truncate BEFORE TRUNCATE ON docs
    FOR EACH STATEMENT EXECUTE FUNCTION docs_append_only();
