-- The buyer fee of each order (cents), from order:created: a payment charges the ticket's price
-- and this. Orders replicated before fees existed carry none.
ALTER TABLE orders ADD COLUMN buyer_fee_cents BIGINT NOT NULL DEFAULT 0;
