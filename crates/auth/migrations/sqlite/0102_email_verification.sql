-- When the account's current email was confirmed, by a link of the welcome email or one sent
-- again; NULL until then, and again once the email changes.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;

-- Email-verification links, kept like password-reset links: the SHA-256 of each token only
-- (the token travels in the email). `email_key` is the address the link confirms, so a link
-- sent to an address the account no longer has confirms nothing.
CREATE TABLE email_verifications (
    token_hash TEXT   PRIMARY KEY,
    user_id    TEXT   NOT NULL,
    email_key  TEXT   NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX email_verifications_by_expiry ON email_verifications (expires_at);
