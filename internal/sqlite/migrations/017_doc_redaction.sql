-- Retention (SPEC §5) pseudonymises and erases the personal fields of the
-- append-only documents past the ledger's period (store.DocRedactor). The
-- documents stay append-only but for that one rewrite: the trigger lets an
-- update change the body only, and only together with redacted going from
-- 0 to 1, so a document is rewritten at most once and never otherwise.
ALTER TABLE docs ADD COLUMN redacted INTEGER NOT NULL DEFAULT 0;
DROP TRIGGER docs_no_update;
CREATE TRIGGER docs_no_update BEFORE UPDATE ON docs
WHEN NEW.id IS NOT OLD.id OR NEW.collection IS NOT OLD.collection OR NEW.created_at IS NOT OLD.created_at
    OR NEW.key IS NOT OLD.key OR OLD.redacted <> 0 OR NEW.redacted <> 1
BEGIN
    SELECT RAISE(ABORT, 'docs are append-only');
END;
