-- Optional document keys (store.DocStore.AppendDocOnce): the unique index
-- makes "once per key" a property of the database, so two instances that
-- both think they lead (the old leader has not yet noticed its lock
-- connection broke) still leave one document. Documents appended without
-- a key keep NULL, which the index lets repeat (NULLS DISTINCT, the
-- default). "C" collation as for the record keys: compared byte for byte,
-- as in the SQLite store. A nullable column without a default is added
-- without rewriting the table and fires no trigger, so the append-only
-- triggers stay as they are.
ALTER TABLE docs ADD COLUMN key text COLLATE "C";
CREATE UNIQUE INDEX docs_key ON docs (collection, key);
