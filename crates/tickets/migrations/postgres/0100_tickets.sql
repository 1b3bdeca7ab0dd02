CREATE TABLE tickets (
    -- UUIDv7: ordering by id is ordering by listing time.
    id          TEXT   PRIMARY KEY,
    title       TEXT   NOT NULL,
    -- The title lowercased, for case-insensitive search.
    title_key   TEXT   NOT NULL,
    price_cents BIGINT NOT NULL CHECK (price_cents > 0),
    user_id     TEXT   NOT NULL,
    version     BIGINT NOT NULL,
    status      TEXT   NOT NULL CHECK (status IN ('for_sale', 'reserved', 'sold', 'withdrawn')),
    order_id    TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
-- The buyers' list: tickets for sale, by listing time or by price, paged by keyset.
CREATE INDEX tickets_by_status_and_id ON tickets (status, id);
CREATE INDEX tickets_by_status_and_price ON tickets (status, price_cents, id);

-- Orders known to have ended, so a late order:created for one of them reserves nothing.
CREATE TABLE ended_orders (
    order_id TEXT   PRIMARY KEY,
    ended_at BIGINT NOT NULL
);
