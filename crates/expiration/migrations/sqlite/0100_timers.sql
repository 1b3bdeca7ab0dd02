-- One timer per order: when it falls due, the order expires.
CREATE TABLE timers (
    order_id TEXT   PRIMARY KEY,
    due_at   BIGINT NOT NULL
);
CREATE INDEX timers_by_due_at ON timers (due_at);
