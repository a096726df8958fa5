-- The recipients an attempt of a notification left out, and why (package
-- alert, Flush): each attempt sends within the grants of its time, not of
-- when the notification was queued, and says whom it left out.
ALTER TABLE notifications ADD COLUMN withheld TEXT NOT NULL DEFAULT '';
