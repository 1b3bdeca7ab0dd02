-- Password-reset links: the SHA-256 of each link's token (the token itself is only in the
-- email), whose account it resets, until when, and when it was used (a link works once).
CREATE TABLE password_resets (
    token_hash TEXT   PRIMARY KEY,
    user_id    TEXT   NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

-- Pruning by age, and ending a user's other links when one is used.
CREATE INDEX password_resets_by_expiry ON password_resets (expires_at);
CREATE INDEX password_resets_by_user ON password_resets (user_id);
