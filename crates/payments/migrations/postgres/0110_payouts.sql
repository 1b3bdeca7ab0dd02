-- Sellers' payouts (issue #20): one per delivered sale, held until its release time and the
-- seller's account can take it, then transferred (Stripe Connect, separate charges and
-- transfers). `amount` is the seller's share in cents (the sale's price less the seller fee),
-- `seller_fee` what the platform keeps of the price; both are fixed from the order, never from
-- the ticket's current price.
CREATE TABLE payouts (
    id                  TEXT   PRIMARY KEY,
    -- One payout per sale, however often its delivery is reported.
    order_id            TEXT   NOT NULL UNIQUE,
    ticket_id           TEXT   NOT NULL,
    seller_id           TEXT   NOT NULL,
    amount              BIGINT NOT NULL CHECK (amount >= 0),
    seller_fee          BIGINT NOT NULL CHECK (seller_fee >= 0),
    -- held: waiting for its release time or the seller's account; failed: a transfer failed and
    -- is retried; paid; cancelled: the sale was refunded before release; reversed: refunded
    -- after, and the transfer taken back.
    status              TEXT   NOT NULL CHECK (status IN ('held', 'paid', 'failed', 'cancelled', 'reversed')),
    release_at          BIGINT NOT NULL,
    -- When the release may be tried (again): the release time, then after each failure a
    -- backoff, and while the seller's account is not enabled a later look.
    next_attempt_at     BIGINT NOT NULL,
    -- Failed transfers, counted for the backoff and for operators.
    failures            BIGINT NOT NULL DEFAULT 0,
    -- Transfers Stripe refused outright: each later try takes a new idempotency key (Stripe
    -- would replay a refusal under the old one), while a transfer whose outcome is unknown is
    -- asked again under the same key, so it can never be made twice.
    refusals            BIGINT NOT NULL DEFAULT 0,
    failure_reason      TEXT,
    stripe_transfer_id  TEXT,
    -- The sale was refunded after the transfer (unix ms): the transfer is to be reversed. On a
    -- cancelled payout: its last transfer's outcome was never known, so it is looked up.
    reversal_wanted_at  BIGINT,
    -- Since when a transfer may have been made without GitTix knowing (a try whose answer did
    -- not come); cleared once Stripe's answer is recorded.
    uncertain_since     BIGINT,
    -- Until when a claimed try may still be waiting for Stripe's answer (unix ms); cleared once
    -- its outcome is recorded.
    in_flight_until     BIGINT,
    stripe_reversal_id  TEXT,
    paid_at             BIGINT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
-- GET /api/payouts: a seller's payouts, newest first.
CREATE INDEX payouts_by_seller ON payouts (seller_id, created_at);
-- The release sweep: payouts still to pay, by when they may be tried.
CREATE INDEX payouts_to_release ON payouts (next_attempt_at) WHERE status IN ('held', 'failed');
-- The reversal sweep: paid transfers of refunded sales, and cancelled payouts whose transfer
-- is to be looked up, by when they may be tried (again).
CREATE INDEX payouts_to_reverse ON payouts (next_attempt_at)
    WHERE status = 'paid' AND reversal_wanted_at IS NOT NULL;
CREATE INDEX payouts_to_resolve ON payouts (next_attempt_at)
    WHERE status = 'cancelled' AND reversal_wanted_at IS NOT NULL;

-- The sale's seller fee (cents), fixed by SELLER_FEE_PERCENT when payments learns the order
-- completed. Orders completed before this have none (read as 0: no seller fee was taken then).
ALTER TABLE orders ADD COLUMN seller_fee_cents BIGINT;
