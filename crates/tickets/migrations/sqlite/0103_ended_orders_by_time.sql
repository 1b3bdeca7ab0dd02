-- ended_orders is pruned by age (gittix_shared::pruning).
CREATE INDEX ended_orders_by_ended_at ON ended_orders (ended_at);
