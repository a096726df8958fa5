-- Indexed fields of documents (store.DocField, store.IndexedDocFields): a
-- gate decision's service, verdict and time, so the /gates page, a
-- deployment's page and the period reports read the decisions they show
-- (store.DocFieldReader) where each had read and decoded every one. Partial
-- indexes: only the collection's documents are indexed (every one JSON,
-- which the expressions parse). The functions are IMMUTABLE, as an index
-- expression must be: the text of a body never changes its field, and a
-- time's text (RFC 3339) names its offset, so no setting changes the
-- instant it reads as.
CREATE FUNCTION doc_field(body bytea, path text[]) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT convert_from(body, 'UTF8')::jsonb #>> path $$;
CREATE FUNCTION doc_time(body bytea, path text[]) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT (convert_from(body, 'UTF8')::jsonb #>> path)::timestamptz $$;

CREATE INDEX docs_gate_decision_service ON docs (doc_field(body, '{release,service}'), id)
    WHERE collection = 'gate_decision';
CREATE INDEX docs_gate_decision_verdict ON docs (doc_field(body, '{decision}'), id)
    WHERE collection = 'gate_decision';
CREATE INDEX docs_gate_decision_at ON docs (doc_time(body, '{at}'))
    WHERE collection = 'gate_decision';
