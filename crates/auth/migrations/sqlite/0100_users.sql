CREATE TABLE users (
    id            TEXT   PRIMARY KEY,
    email         TEXT   NOT NULL,
    -- The email as compared: lowercased, so "A@x.io" and "a@x.io" are one account.
    email_key     TEXT   NOT NULL UNIQUE,
    password_hash TEXT   NOT NULL,
    version       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
