-- The charge (`ch_...`) a captured PaymentIntent made: a seller's transfer names it as its
-- source_transaction, so the transfer waits for that payment's funds. Empty for payments
-- captured before it was recorded.
ALTER TABLE charges ADD COLUMN stripe_charge_id TEXT;
