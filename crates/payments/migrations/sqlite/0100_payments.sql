-- The replica of the orders service's orders, kept in version order from its events.
CREATE TABLE orders (
    id          TEXT   PRIMARY KEY,
    user_id     TEXT   NOT NULL,
    status      TEXT   NOT NULL,
    price_cents INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL
);

-- One row per payment attempt.
CREATE TABLE charges (
    id                TEXT   PRIMARY KEY,
    order_id          TEXT   NOT NULL,
    attempt           INTEGER NOT NULL,
    -- created: sent to Stripe, outcome not yet known; then failed, completed or refunded.
    status            TEXT   NOT NULL CHECK (status IN ('created', 'failed', 'completed', 'refunded')),
    amount            INTEGER NOT NULL,
    -- The card token, kept so an attempt whose outcome is unknown can be asked about again.
    token             TEXT   NOT NULL,
    idempotency_key   TEXT   NOT NULL UNIQUE,
    stripe_id         TEXT,
    stripe_refund_id  TEXT,
    failure_reason    TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (order_id, attempt)
);
-- At most one attempt in flight or successful per order: two payments at once cannot both charge.
CREATE UNIQUE INDEX charges_one_live_per_order ON charges (order_id)
    WHERE status IN ('created', 'completed', 'refunded');
