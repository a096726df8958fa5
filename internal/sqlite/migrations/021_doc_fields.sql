-- Indexed fields of documents (store.DocField, store.IndexedDocFields): a
-- gate decision's service, verdict and time, so the /gates page, a
-- deployment's page and the period reports read the decisions they show
-- (store.DocFieldReader) where each had read and decoded every one. Partial
-- indexes: only the collection's documents are indexed (every one JSON,
-- which the expressions parse), and a query names the collection as the
-- index does, literally, for SQLite to use it. CAST: a BLOB is JSONB to
-- the JSON functions, and the bodies are JSON text.
CREATE INDEX docs_gate_decision_service ON docs (json_extract(CAST(body AS TEXT), '$.release.service'), id)
    WHERE collection = 'gate_decision';
CREATE INDEX docs_gate_decision_verdict ON docs (json_extract(CAST(body AS TEXT), '$.decision'), id)
    WHERE collection = 'gate_decision';
CREATE INDEX docs_gate_decision_at ON docs (julianday(json_extract(CAST(body AS TEXT), '$.at')))
    WHERE collection = 'gate_decision';
