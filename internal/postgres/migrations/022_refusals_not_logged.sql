-- Refused deliveries not logged one by one (store.NotLogged), as in the
-- SQLite store: past the rate a source's refused, unverified deliveries
-- are logged at, each is counted here instead, per source and minute (the
-- minute's start in unix nanoseconds). Every instance sharing the store
-- adds to the same counts.
CREATE TABLE refusals_not_logged (
    source  text   COLLATE "C" NOT NULL,
    minute  bigint NOT NULL,
    refused bigint NOT NULL,
    PRIMARY KEY (source, minute)
);
