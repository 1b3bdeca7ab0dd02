-- Stripe webhook events already handled, so a redelivered one is acknowledged and skipped.
CREATE TABLE webhook_events (
    id          TEXT   PRIMARY KEY,
    type        TEXT   NOT NULL,
    received_at BIGINT NOT NULL
);

-- Disputes (chargebacks) opened on GitTix charges, as Stripe reports them.
CREATE TABLE disputes (
    id               TEXT   PRIMARY KEY,
    stripe_charge_id TEXT   NOT NULL,
    reason           TEXT   NOT NULL,
    status           TEXT   NOT NULL,
    amount           BIGINT NOT NULL,
    received_at      BIGINT NOT NULL
);
