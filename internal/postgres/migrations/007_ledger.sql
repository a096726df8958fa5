-- The audit ledger (store.LedgerStore, package ledger), as in the SQLite
-- store: append-only and hash-chained, each row carrying the hash of the
-- one before and a signature by a key kept outside the database. seq runs
-- 1, 2, 3 … without gaps; appends take their own advisory lock, so every
-- instance extends one chain. data and personal are JSON text; personal
-- (names, e-mail and client addresses, notes) is chained only through
-- personal_digest, the SHA-256 of salt then personal, so retention can later
-- erase personal and salt (set both to NULL, the only change the trigger
-- allows) and the chain still verifies. Times are unix nanoseconds.
CREATE TABLE ledger (
    seq             bigint PRIMARY KEY,
    at              bigint NOT NULL,
    type            text   COLLATE "C" NOT NULL,
    data            text   NOT NULL,
    personal        text,
    salt            text,
    personal_digest text   NOT NULL,
    prev            text   NOT NULL,
    hash            text   NOT NULL,
    key_id          text   NOT NULL,
    sig             text   NOT NULL
);
CREATE INDEX ledger_at ON ledger (at);

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND (NEW.seq, NEW.at, NEW.type, NEW.data, NEW.personal_digest, NEW.prev, NEW.hash, NEW.key_id, NEW.sig)
            IS NOT DISTINCT FROM (OLD.seq, OLD.at, OLD.type, OLD.data, OLD.personal_digest, OLD.prev, OLD.hash, OLD.key_id, OLD.sig)
        AND (NEW.personal IS NOT DISTINCT FROM OLD.personal OR NEW.personal IS NULL)
        AND (NEW.salt IS NOT DISTINCT FROM OLD.salt OR NEW.salt IS NULL) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the ledger is append-only';
END
$$;
CREATE TRIGGER ledger_no_change BEFORE UPDATE OR DELETE ON ledger
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
