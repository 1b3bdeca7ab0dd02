-- Events tickets are sold for: a concert, a match, a play.
CREATE TABLE events (
    -- UUIDv7.
    id          TEXT   PRIMARY KEY,
    name        TEXT   NOT NULL,
    venue       TEXT   NOT NULL,
    city        TEXT   NOT NULL,
    -- Lowercased (by the service, the same on both backends), for search and for refusing the
    -- same event twice whatever its case.
    name_key    TEXT   NOT NULL,
    venue_key   TEXT   NOT NULL,
    city_key    TEXT   NOT NULL,
    -- Unix milliseconds.
    starts_at   BIGINT NOT NULL,
    created_by  TEXT   NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
-- One event per name, venue and start.
CREATE UNIQUE INDEX events_one_per_name_venue_and_start ON events (name_key, venue_key, starts_at);
-- Upcoming events, soonest first, paged by keyset; and the same within a city.
CREATE INDEX events_by_start ON events (starts_at, id);
CREATE INDEX events_by_city_and_start ON events (city_key, starts_at, id);

-- The event a ticket is for, if any.
ALTER TABLE tickets ADD COLUMN event_id TEXT;
-- An event's tickets for sale, cheapest first.
CREATE INDEX tickets_by_event_status_and_price ON tickets (event_id, status, price_cents, id);
