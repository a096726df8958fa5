-- Refused deliveries not logged one by one (store.NotLogged): past the
-- rate a source's refused, unverified deliveries are logged at, each is
-- counted here instead, per source and minute (the minute's start in unix
-- nanoseconds), so that the data sources report's rejected count is
-- whole. Every instance sharing the store adds to the same counts.
CREATE TABLE refusals_not_logged (
    source  TEXT    NOT NULL,
    minute  INTEGER NOT NULL,
    refused INTEGER NOT NULL,
    PRIMARY KEY (source, minute)
);
