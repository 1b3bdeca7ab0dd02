-- Authorize, then capture (issue #18). Two more statuses of an attempt: `requires_action` (the
-- card asks for 3-D Secure; the buyer has the challenge) and `authorized` (the money is held,
-- not captured: it is captured once orders completes the order, or released). Both are in
-- flight, so the one-live-attempt index counts them. `client_secret` is what the buyer's
-- browser needs to answer the challenge.
ALTER TABLE charges DROP CONSTRAINT charges_status_check;
ALTER TABLE charges ADD CONSTRAINT charges_status_check CHECK (status IN
    ('created', 'requires_action', 'authorized', 'failed', 'completed', 'refunded'));
ALTER TABLE charges ADD COLUMN client_secret TEXT;
DROP INDEX charges_one_live_per_order;
CREATE UNIQUE INDEX charges_one_live_per_order ON charges (order_id)
    WHERE status IN ('created', 'requires_action', 'authorized', 'completed', 'refunded');
-- Reconciliation finds the attempts still in flight by their status.
CREATE INDEX charges_in_flight ON charges (updated_at)
    WHERE status IN ('created', 'requires_action', 'authorized');
