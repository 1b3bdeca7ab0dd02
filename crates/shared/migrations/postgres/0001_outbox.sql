-- Events written in the same transaction as the change they announce; the relay publishes them
-- in position order and deletes each once the bus has stored it.
CREATE TABLE outbox (
    position    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    TEXT   NOT NULL UNIQUE,
    subject     TEXT   NOT NULL,
    payload     TEXT   NOT NULL,
    -- JSON object of message headers (the request id that caused the event).
    headers     TEXT   NOT NULL,
    occurred_at BIGINT NOT NULL
);
