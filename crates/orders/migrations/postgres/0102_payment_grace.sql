-- A payment started in time is decided on its merits (issue #18). The highest payment attempt
-- payments has started for the order (`charge:started`) and the highest one that has resolved
-- without paying (`charge:failed`): while started > settled, an attempt is in flight, and the
-- expiry leaves the order alone until PAYMENT_GRACE_SECONDS past `expires_at`.
ALTER TABLE orders ADD COLUMN payment_started BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN payment_settled BIGINT NOT NULL DEFAULT 0;
-- The sweep that ends the grace finds unpaid orders by their expiry.
CREATE INDEX orders_unpaid_by_expiry ON orders (expires_at) WHERE status = 'awaiting:payment';
