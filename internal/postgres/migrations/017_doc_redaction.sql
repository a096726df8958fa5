-- Retention (SPEC §5) pseudonymises and erases the personal fields of the
-- append-only documents past the ledger's period (store.DocRedactor). The
-- documents stay append-only but for that one rewrite: the trigger lets an
-- update change the body only, and only together with redacted going from
-- false to true, so a document is rewritten at most once and never
-- otherwise. Deletes and truncation stay refused.
ALTER TABLE docs ADD COLUMN redacted boolean NOT NULL DEFAULT false;

CREATE OR REPLACE FUNCTION docs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND (NEW.id, NEW.collection, NEW.created_at, NEW.key) IS NOT DISTINCT FROM (OLD.id, OLD.collection, OLD.created_at, OLD.key)
        AND NOT OLD.redacted AND NEW.redacted THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'docs are append-only';
END
$$;
