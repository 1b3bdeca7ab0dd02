-- Holds (issue #17). How many unpaid orders (created or awaiting:payment) each buyer holds: one
-- conditional update of this row decides between concurrent orders of one buyer, so however
-- many arrive at once they cannot exceed MAX_HELD_TICKETS. Kept with every order's start and
-- end, in the same transaction.
CREATE TABLE buyer_holds (
    user_id TEXT   PRIMARY KEY,
    held    BIGINT NOT NULL CHECK (held >= 0)
);
INSERT INTO buyer_holds (user_id, held)
    SELECT user_id, COUNT(*) FROM orders WHERE status IN ('created', 'awaiting:payment') GROUP BY user_id;

-- A buyer whose hold on a ticket expired may not take that ticket again before `until` (unix
-- ms): REHOLD_COOLDOWN_SECONDS. Pruned once `until` has passed.
CREATE TABLE rehold_cooldowns (
    user_id   TEXT   NOT NULL,
    ticket_id TEXT   NOT NULL,
    until     BIGINT NOT NULL,
    PRIMARY KEY (user_id, ticket_id)
);
CREATE INDEX rehold_cooldowns_by_until ON rehold_cooldowns (until);
