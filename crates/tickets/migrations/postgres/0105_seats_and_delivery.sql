-- What a ticket is beyond its title and price: its seat and printed price, and the event it is
-- for. The event's name, venue, city and start are copied onto its tickets (and rewritten with
-- them when the event is corrected), so every list and every ticket answer reads one table.
ALTER TABLE tickets ADD COLUMN section TEXT;
ALTER TABLE tickets ADD COLUMN seat_row TEXT;
ALTER TABLE tickets ADD COLUMN seat TEXT;
ALTER TABLE tickets ADD COLUMN face_value_cents BIGINT;
ALTER TABLE tickets ADD COLUMN event_name TEXT;
ALTER TABLE tickets ADD COLUMN event_venue TEXT;
ALTER TABLE tickets ADD COLUMN event_city TEXT;
-- Unix milliseconds: sales close then.
ALTER TABLE tickets ADD COLUMN event_starts_at BIGINT;

-- The buyer of the order that holds or bought the ticket, and once sold whether its file
-- reached them, and by when it must.
ALTER TABLE tickets ADD COLUMN buyer_id TEXT;
ALTER TABLE tickets ADD COLUMN delivery TEXT CHECK (delivery IN ('awaiting', 'delivered', 'undelivered'));
ALTER TABLE tickets ADD COLUMN delivery_due_at BIGINT;
-- The buyer's tickets, newest first.
CREATE INDEX tickets_by_buyer ON tickets (buyer_id, id);

-- The ticket itself: the seller's PDF or image, at most 5 MB, one per ticket.
CREATE TABLE ticket_files (
    ticket_id    TEXT   PRIMARY KEY,
    content_type TEXT   NOT NULL,
    body         BYTEA  NOT NULL,
    uploaded_at  BIGINT NOT NULL
);
