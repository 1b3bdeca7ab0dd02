-- Reconciliation gives up on an attempt still in flight RECONCILE_GIVE_UP_SECONDS after it
-- began (issue #18): it is dead-lettered for an operator, counted, and marked here (unix ms) so
-- it is not asked about again.
ALTER TABLE charges ADD COLUMN abandoned_at INTEGER;
