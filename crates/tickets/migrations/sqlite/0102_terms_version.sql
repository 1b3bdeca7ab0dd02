-- The version at which the seller last set a ticket's terms: a reservation made from an older
-- version is refused. Tickets listed before this column existed count as unchanged since
-- version 0, so no order already made for them is refused.
ALTER TABLE tickets ADD COLUMN terms_version INTEGER NOT NULL DEFAULT 0;
