-- Ids of the events this service has applied, written in the same transaction as the effect,
-- so a redelivered event is recognised and skipped.
CREATE TABLE inbox (
    event_id   TEXT   PRIMARY KEY,
    applied_at BIGINT NOT NULL
);
