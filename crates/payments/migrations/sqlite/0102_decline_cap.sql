-- The decline cap, settled by the database (issue #16): an order has at most three payment
-- attempts, so at most three declined ones, however many payments for it arrive at once. The
-- bound is MAX_DECLINED_ATTEMPTS (crates/shared/src/domain.rs): change both together.
--
-- Why it is race-free: an attempt is a row, written before its card is sent to the provider,
-- and its number must lie in 1..3 (the CHECK below); no two rows of one order share a number
-- (UNIQUE (order_id, attempt), since 0100). So an order can never hold more than three rows, in
-- whatever order concurrent inserts run: two inserting the same number meet at the unique index
-- and the second fails, and a number above 3 fails the CHECK. How the code picks the number
-- decides only who gets a slot, never how many exist.
--
-- Existing rows: before this, the code counted declines and then inserted, and concurrent
-- payments could record a fourth attempt or more (numbers 4, 5, ...). Those are attempts Stripe
-- really saw, so they stay, marked `over_cap`: the only rows allowed past 3. Nothing sets
-- `over_cap` after this migration (it defaults to false and no query names it), and an order
-- with such rows already holds numbers 1 to 3 (numbers were taken in sequence), so it can take
-- no new attempt either.
--
-- SQLite cannot add a CHECK to a table, so the table is rebuilt with it (same columns and
-- indexes as 0100, plus `over_cap`).
CREATE TABLE charges_with_cap (
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
    over_cap          BOOLEAN NOT NULL DEFAULT FALSE CHECK (over_cap IN (FALSE, TRUE)),
    UNIQUE (order_id, attempt),
    CONSTRAINT charges_attempt_within_cap CHECK (attempt BETWEEN 1 AND 3 OR over_cap)
);
INSERT INTO charges_with_cap (id, order_id, attempt, status, amount, token, idempotency_key,
                              stripe_id, stripe_refund_id, failure_reason, created_at, updated_at,
                              over_cap)
    SELECT id, order_id, attempt, status, amount, token, idempotency_key,
           stripe_id, stripe_refund_id, failure_reason, created_at, updated_at,
           attempt NOT BETWEEN 1 AND 3
    FROM charges;
DROP TABLE charges;
ALTER TABLE charges_with_cap RENAME TO charges;
-- At most one attempt in flight or successful per order: two payments at once cannot both charge.
CREATE UNIQUE INDEX charges_one_live_per_order ON charges (order_id)
    WHERE status IN ('created', 'completed', 'refunded');
