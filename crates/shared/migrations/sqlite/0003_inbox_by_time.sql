-- The inbox is pruned by age (crate::pruning): an index keeps that from reading the whole table.
CREATE INDEX inbox_by_applied_at ON inbox (applied_at);
