-- Each seller's Stripe Connect account, made once (the key is the seller), and whether Stripe
-- can pay out to it yet: pending until its onboarding is complete, then enabled.
CREATE TABLE seller_accounts (
    user_id           TEXT PRIMARY KEY,
    stripe_account_id TEXT NOT NULL UNIQUE,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'enabled')),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
