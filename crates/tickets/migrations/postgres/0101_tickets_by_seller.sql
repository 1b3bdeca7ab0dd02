-- A seller's own listings, newest first, whatever their status.
CREATE INDEX tickets_by_seller ON tickets (user_id, id);
