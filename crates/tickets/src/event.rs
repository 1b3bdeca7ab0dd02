//! An event tickets are sold for, as stored and as the API shows it.

use gittix_shared::fees::Fees;
use gittix_shared::time::iso8601;
use serde::Serialize;

/// The columns of [`EventRow`], with what is for sale for it, for `SELECT ... FROM events e`.
pub const EVENT_COLUMNS: &str = "e.id, e.name, e.venue, e.city, e.starts_at, e.created_by, e.version, \
    (SELECT count(*) FROM tickets t WHERE t.event_id = e.id AND t.status = 'for_sale') AS tickets_for_sale, \
    (SELECT min(t.price_cents) FROM tickets t WHERE t.event_id = e.id AND t.status = 'for_sale') AS lowest_price_cents";

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    pub id: String,
    pub name: String,
    pub venue: String,
    pub city: String,
    /// Unix milliseconds.
    pub starts_at: i64,
    pub created_by: String,
    pub version: i64,
    pub tickets_for_sale: i64,
    pub lowest_price_cents: Option<i64>,
}

/// An event on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    pub name: String,
    pub venue: String,
    pub city: String,
    /// ISO-8601, UTC.
    #[schema(example = "2027-06-01T18:00:00.000Z")]
    pub starts_at: String,
    /// Who created it.
    pub created_by: String,
    pub version: i64,
    /// How many of its tickets are for sale now.
    pub tickets_for_sale: i64,
    /// The cheapest of them, in dollars (what a buyer pays).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "gittix_shared::money::serialize_optional_dollars"
    )]
    #[schema(value_type = Option<f64>, example = 45.5)]
    pub lowest_price: Option<i64>,
}

impl Event {
    /// The event as the API shows it, its lowest price as a buyer pays it under `fees`. Once
    /// it has started, nothing is for sale for it any more.
    pub fn new(row: EventRow, fees: &Fees) -> Self {
        let on_sale = row.starts_at > gittix_shared::time::unix_millis();
        Self {
            id: row.id,
            name: row.name,
            venue: row.venue,
            city: row.city,
            starts_at: iso8601(row.starts_at),
            created_by: row.created_by,
            version: row.version,
            tickets_for_sale: if on_sale { row.tickets_for_sale } else { 0 },
            lowest_price: row
                .lowest_price_cents
                .filter(|_| on_sale)
                .map(|price| fees.total(price)),
        }
    }
}

impl EventRow {
    pub fn updated_event(&self) -> gittix_shared::events::EventUpdated {
        gittix_shared::events::EventUpdated {
            id: self.id.clone(),
            version: self.version,
            name: self.name.clone(),
            venue: self.venue.clone(),
            city: self.city.clone(),
            starts_at: iso8601(self.starts_at),
            created_by: self.created_by.clone(),
        }
    }

    pub fn created_event(&self) -> gittix_shared::events::EventCreated {
        gittix_shared::events::EventCreated {
            id: self.id.clone(),
            version: self.version,
            name: self.name.clone(),
            venue: self.venue.clone(),
            city: self.city.clone(),
            starts_at: iso8601(self.starts_at),
            created_by: self.created_by.clone(),
        }
    }
}
