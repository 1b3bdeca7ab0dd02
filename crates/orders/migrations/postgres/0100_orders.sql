-- The replica of the tickets service's tickets, kept in version order from its events.
CREATE TABLE tickets (
    id          TEXT   PRIMARY KEY,
    title       TEXT   NOT NULL,
    price_cents BIGINT NOT NULL,
    seller_id   TEXT   NOT NULL,
    status      TEXT   NOT NULL,
    version     BIGINT NOT NULL
);

CREATE TABLE orders (
    -- UUIDv7: ordering by id is ordering by creation time.
    id                 TEXT   PRIMARY KEY,
    user_id            TEXT   NOT NULL,
    status             TEXT   NOT NULL CHECK (status IN ('created', 'awaiting:payment', 'complete', 'cancelled')),
    expires_at         BIGINT NOT NULL,
    version            BIGINT NOT NULL,
    -- The ticket as it was when the order was made: the price is fixed then.
    ticket_id          TEXT   NOT NULL,
    ticket_title       TEXT   NOT NULL,
    ticket_price_cents BIGINT NOT NULL,
    ticket_version     BIGINT NOT NULL,
    cancel_reason      TEXT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
-- The reservation lock: at most one order per ticket that is not cancelled. Any number of
-- concurrent buyers yield exactly one winner; the database decides, not a check-then-insert.
CREATE UNIQUE INDEX orders_one_active_per_ticket ON orders (ticket_id)
    WHERE status IN ('created', 'awaiting:payment', 'complete');
CREATE INDEX orders_by_user ON orders (user_id, id);
