-- What the emails need to know, replicated from the events of their owners: each row is kept
-- at the newest version seen (an email reads the latest state; it never needs the history).
CREATE TABLE users (
    id      TEXT    PRIMARY KEY,
    email   TEXT    NOT NULL,
    version BIGINT  NOT NULL
);
CREATE TABLE events (
    id        TEXT   PRIMARY KEY,
    name      TEXT   NOT NULL,
    venue     TEXT   NOT NULL,
    city      TEXT   NOT NULL,
    starts_at TEXT   NOT NULL,
    version   BIGINT NOT NULL
);
CREATE TABLE tickets (
    id        TEXT   PRIMARY KEY,
    title     TEXT   NOT NULL,
    seller_id TEXT   NOT NULL,
    event_id  TEXT,
    version   BIGINT NOT NULL
);
-- An order as it was created: who buys which ticket, at what price and all-in total (cents).
-- Orders never change those, so there is no version.
CREATE TABLE orders (
    id        TEXT   PRIMARY KEY,
    buyer_id  TEXT   NOT NULL,
    ticket_id TEXT   NOT NULL,
    price     BIGINT NOT NULL,
    total     BIGINT NOT NULL
);
-- Sales whose delivery is decided (delivered or undelivered): their reminder is not sent.
CREATE TABLE deliveries_decided (
    order_id TEXT PRIMARY KEY
);

-- Every email this service decided to send, and where it stands: pending (to be sent at
-- next_attempt_at), sent, failed (refused for good by the mail server), or cancelled (a
-- reminder made moot, a link expired unsent). Rendered when decided, so a retry sends exactly
-- what was decided; the words of an email with a reset or verification link are erased once it
-- is settled.
CREATE TABLE messages (
    id              TEXT    PRIMARY KEY,
    event_id        TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    user_id         TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    text_body       TEXT    NOT NULL,
    html_body       TEXT    NOT NULL,
    order_id        TEXT,
    status          TEXT    NOT NULL,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    -- When what it says stops being true (a link's expiry): unsent by then, it is cancelled.
    expires_at      BIGINT,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    sent_at         BIGINT,
    -- One email of each kind per event, whatever the redeliveries.
    UNIQUE (event_id, kind)
);
-- The sender's question: which pending emails are due.
CREATE INDEX messages_due ON messages (next_attempt_at) WHERE status = 'pending';
-- Cancelling a sale's reminder.
CREATE INDEX messages_by_order ON messages (order_id) WHERE order_id IS NOT NULL;

-- When the service first ran on this database: events from long before it only fill the
-- copies above, and send no email.
CREATE TABLE first_start (
    id         INTEGER PRIMARY KEY,
    started_at BIGINT  NOT NULL
);
