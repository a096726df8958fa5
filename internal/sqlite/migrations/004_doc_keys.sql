-- Optional document keys (store.DocStore.AppendDocOnce): the unique index
-- makes "once per key" a property of the file, so two writers that both
-- think they should write (two instances briefly both leading) still
-- leave one document. Documents appended without a key keep NULL, which
-- the index lets repeat. Adding a column fires no UPDATE trigger, so the
-- append-only triggers stay as they are.
ALTER TABLE docs ADD COLUMN key TEXT;
CREATE UNIQUE INDEX docs_key ON docs (collection, key);
