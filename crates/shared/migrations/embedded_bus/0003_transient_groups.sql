-- Groups of one process (a replica's own reader of session:revoked): dropped when the log is
-- opened again, since the process that read them is gone.
ALTER TABLE bus_groups ADD COLUMN transient BOOLEAN NOT NULL DEFAULT FALSE;
