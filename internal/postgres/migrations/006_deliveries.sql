-- The delivery log of the webhook connectors (store.DeliveryStore): every
-- delivery with its outcome, the keys of the records it wrote and, for a
-- retention period, the payload as received with the headers its mapping
-- reads (never credentials), so a mapping fix can be replayed. Accepted and ignored deliveries are counted once: the partial
-- unique index makes a redelivery (same source and delivery id) a
-- duplicate even when another process received the first one. Rejected
-- and duplicate deliveries are logged without taking the id, so a sender
-- that fixes its signature, or a replay after a mapping fix, still counts.
CREATE TABLE deliveries (
    seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source         text   COLLATE "C" NOT NULL,
    delivery_id    text   COLLATE "C" NOT NULL,
    received_at    bigint NOT NULL, -- unix nanoseconds
    outcome        text   NOT NULL, -- accepted, ignored, duplicate, rejected
    event          text   NOT NULL,
    reason         text   NOT NULL,
    payload_sha256 text   NOT NULL,
    record_keys    text   NOT NULL, -- JSON array of [kind, source, id]
    truncated      integer NOT NULL,
    headers        text   NOT NULL, -- JSON object: the headers the mapping reads
    payload        bytea             -- NULL: not kept, or forgotten
);
CREATE UNIQUE INDEX deliveries_counted ON deliveries (source, delivery_id) WHERE outcome IN ('accepted', 'ignored');
CREATE INDEX deliveries_received ON deliveries (source, received_at);
-- Forgetting payloads by age scans only the rows that still hold one.
CREATE INDEX deliveries_kept ON deliveries (received_at) WHERE payload IS NOT NULL;
