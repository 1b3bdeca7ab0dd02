-- Authorize, then capture (issue #18). Two more statuses of an attempt: `requires_action` (the
-- card asks for 3-D Secure; the buyer has the challenge) and `authorized` (the money is held,
-- not captured: it is captured once orders completes the order, or released). Both are in
-- flight, so the one-live-attempt index counts them. `client_secret` is what the buyer's
-- browser needs to answer the challenge.
--
-- SQLite cannot change a CHECK, so the table is rebuilt (the columns and constraints of 0102,
-- plus `client_secret`).
CREATE TABLE charges_authorized_first (
    id                TEXT   PRIMARY KEY,
    order_id          TEXT   NOT NULL,
    attempt           INTEGER NOT NULL,
    status            TEXT   NOT NULL CHECK (status IN
        ('created', 'requires_action', 'authorized', 'failed', 'completed', 'refunded')),
    amount            INTEGER NOT NULL,
    -- The card token or payment method, kept so an attempt whose outcome is unknown can be
    -- asked about again.
    token             TEXT   NOT NULL,
    idempotency_key   TEXT   NOT NULL UNIQUE,
    stripe_id         TEXT,
    stripe_refund_id  TEXT,
    failure_reason    TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    over_cap          BOOLEAN NOT NULL DEFAULT FALSE CHECK (over_cap IN (FALSE, TRUE)),
    client_secret     TEXT,
    UNIQUE (order_id, attempt),
    CONSTRAINT charges_attempt_within_cap CHECK (attempt BETWEEN 1 AND 3 OR over_cap)
);
INSERT INTO charges_authorized_first (id, order_id, attempt, status, amount, token,
                                      idempotency_key, stripe_id, stripe_refund_id,
                                      failure_reason, created_at, updated_at, over_cap)
    SELECT id, order_id, attempt, status, amount, token, idempotency_key, stripe_id,
           stripe_refund_id, failure_reason, created_at, updated_at, over_cap
    FROM charges;
DROP TABLE charges;
ALTER TABLE charges_authorized_first RENAME TO charges;
CREATE UNIQUE INDEX charges_one_live_per_order ON charges (order_id)
    WHERE status IN ('created', 'requires_action', 'authorized', 'completed', 'refunded');
-- Reconciliation finds the attempts still in flight by their status.
CREATE INDEX charges_in_flight ON charges (updated_at)
    WHERE status IN ('created', 'requires_action', 'authorized');
