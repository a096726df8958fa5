-- The audit ledger (store.LedgerStore, package ledger): append-only and
-- hash-chained, each row carrying the hash of the one before and a
-- signature by a key kept outside the database. seq runs 1, 2, 3 … without
-- gaps. data and personal are JSON text; personal (names, e-mail and client
-- addresses, notes) is chained only through personal_digest, the SHA-256
-- of salt then personal, so retention can later erase personal and salt
-- (set both to NULL, the only change the triggers allow) and the chain
-- still verifies. Times are unix nanoseconds.
CREATE TABLE ledger (
    seq             INTEGER PRIMARY KEY,
    at              INTEGER NOT NULL,
    type            TEXT    NOT NULL,
    data            TEXT    NOT NULL,
    personal        TEXT,
    salt            TEXT,
    personal_digest TEXT    NOT NULL,
    prev            TEXT    NOT NULL,
    hash            TEXT    NOT NULL,
    key_id          TEXT    NOT NULL,
    sig             TEXT    NOT NULL
);
CREATE INDEX ledger_at ON ledger (at);
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
WHEN NEW.seq IS NOT OLD.seq OR NEW.at IS NOT OLD.at OR NEW.type IS NOT OLD.type OR NEW.data IS NOT OLD.data
    OR NEW.personal_digest IS NOT OLD.personal_digest OR NEW.prev IS NOT OLD.prev OR NEW.hash IS NOT OLD.hash
    OR NEW.key_id IS NOT OLD.key_id OR NEW.sig IS NOT OLD.sig
    OR (NEW.personal IS NOT OLD.personal AND NEW.personal IS NOT NULL)
    OR (NEW.salt IS NOT OLD.salt AND NEW.salt IS NOT NULL)
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only');
END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only');
END;
