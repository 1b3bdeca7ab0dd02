-- What the buyer pays on top of the ticket's price, fixed when the order is made (cents): the
-- total charged is ticket_price_cents + buyer_fee_cents. Orders made before fees existed paid
-- the price alone.
ALTER TABLE orders ADD COLUMN buyer_fee_cents BIGINT NOT NULL DEFAULT 0;
