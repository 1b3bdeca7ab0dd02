-- The embedded bus: an append-only log of messages, consumer groups with a cursor into it, and
-- the deliveries each group still owes.
CREATE TABLE bus_messages (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    msg_id       TEXT    NOT NULL UNIQUE,
    subject      TEXT    NOT NULL,
    payload      BLOB    NOT NULL,
    headers      TEXT    NOT NULL,
    published_at INTEGER NOT NULL
);

CREATE TABLE bus_groups (
    name   TEXT    PRIMARY KEY,
    -- The last log position already copied into bus_pending for this group.
    cursor INTEGER NOT NULL
);

CREATE TABLE bus_group_subjects (
    grp     TEXT NOT NULL REFERENCES bus_groups (name),
    subject TEXT NOT NULL,
    PRIMARY KEY (grp, subject)
);

CREATE TABLE bus_pending (
    grp        TEXT    NOT NULL,
    seq        INTEGER NOT NULL REFERENCES bus_messages (seq),
    deliveries INTEGER NOT NULL,
    -- Not delivered before this time (ms): set by an ack timeout or a nak delay.
    visible_at INTEGER NOT NULL,
    PRIMARY KEY (grp, seq)
);
CREATE INDEX bus_pending_due ON bus_pending (grp, visible_at, seq);
