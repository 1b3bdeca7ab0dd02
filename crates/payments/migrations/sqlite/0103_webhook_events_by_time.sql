-- webhook_events is pruned by age (gittix_shared::pruning).
CREATE INDEX webhook_events_by_received_at ON webhook_events (received_at);
