-- When the event a ticket is for starts (unix milliseconds): no order is taken after it.
ALTER TABLE tickets ADD COLUMN event_starts_at BIGINT;
-- Once sold: whether the ticket's file reached its buyer (awaiting, delivered, undelivered).
ALTER TABLE tickets ADD COLUMN delivery TEXT;
-- A complete order's delivery, copied from its ticket as the tickets service reports it.
ALTER TABLE orders ADD COLUMN delivery TEXT;
