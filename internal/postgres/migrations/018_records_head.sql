-- The last committed sequence, for readers. max(seq) over the primary key
-- is one index probe while nothing is being written, but during a large
-- import the index's newest entries are the import's uncommitted rows,
-- and a reader's backward scan visits every one of them to find none
-- visible: ~180 ms with 500,000 rows in flight, growing with the import.
-- The follower's "rows after seq N" scan meets the same entries whenever
-- nothing new is committed. So every write statement bumps this one row
-- to the records' max(seq) as its own transaction sees it (its own rows
-- included), and readers read the row and bound their scans by it: they
-- see the committed value, never the import's rows. A statement-level
-- trigger costs one index probe and one row update per statement (a
-- chunk of thousands of rows), and covers every write path, COPY
-- included. Writers are serialised by the writer lock, so the row is
-- never contended.
-- An instance of the release before this one may be writing while this
-- migrates, without the trigger: the lock waits for its transaction and
-- holds new writes off until the head is filled and the trigger is in
-- place, so the head covers every row committed.
LOCK TABLE records IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE records_head (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq bigint  NOT NULL
);
INSERT INTO records_head (seq) SELECT coalesce(max(seq), 0) FROM records;

CREATE FUNCTION records_head_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE records_head h SET seq = m.seq
        FROM (SELECT max(seq) AS seq FROM records) m
        WHERE m.seq > h.seq;
    RETURN NULL;
END
$$;

CREATE TRIGGER records_head_bump AFTER INSERT OR UPDATE ON records
    FOR EACH STATEMENT EXECUTE FUNCTION records_head_bump();
