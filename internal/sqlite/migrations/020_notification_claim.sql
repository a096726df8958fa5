-- Which process sends a pending notification's attempt (package alert,
-- Flush): a flush claims it until claimed_until before sending, so that of
-- two processes flushing one store (a server's leader, `candor alert
-- evaluate`) only one sends it. NULL while no one holds it; recording the
-- attempt clears it, and a claim its process died holding lapses then.
ALTER TABLE notifications ADD COLUMN claimed_until INTEGER;
