-- The decline cap, settled by the database (issue #16): an order has at most three payment
-- attempts, so at most three declined ones, however many payments for it arrive at once. The
-- bound is MAX_DECLINED_ATTEMPTS (crates/shared/src/domain.rs): change both together.
--
-- Why it is race-free: an attempt is a row, written before its card is sent to the provider,
-- and its number must lie in 1..3 (the CHECK below); no two rows of one order share a number
-- (UNIQUE (order_id, attempt), since 0100). So an order can never hold more than three rows, in
-- whatever order concurrent inserts run: two inserting the same number meet at the unique index
-- (the second waits for the first's transaction, then fails), and a number above 3 fails the
-- CHECK. How the code picks the number decides only who gets a slot, never how many exist.
--
-- Existing rows: before this, the code counted declines and then inserted, and concurrent
-- payments could record a fourth attempt or more (numbers 4, 5, ...). Those are attempts Stripe
-- really saw, so they stay, marked `over_cap`: the only rows allowed past 3. Nothing sets
-- `over_cap` after this migration (it defaults to false and no query names it), and an order
-- with such rows already holds numbers 1 to 3 (numbers were taken in sequence), so it can take
-- no new attempt either.
ALTER TABLE charges ADD COLUMN over_cap BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE charges SET over_cap = TRUE WHERE attempt NOT BETWEEN 1 AND 3;
ALTER TABLE charges ADD CONSTRAINT charges_attempt_within_cap
    CHECK (attempt BETWEEN 1 AND 3 OR over_cap);
