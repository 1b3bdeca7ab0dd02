-- When the tickets service reported the order's ticket undelivered (unix milliseconds): its
-- captured payment is refunded in full, though the order stays complete.
ALTER TABLE orders ADD COLUMN undelivered_at BIGINT;
