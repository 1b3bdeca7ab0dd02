-- Timers are for more than orders now: an order's lock keeps its order id as key, a delivery
-- deadline is `delivery:{ticketId}:{orderId}` (see the service's `timer_kind`).
ALTER TABLE timers RENAME COLUMN order_id TO timer_key;
