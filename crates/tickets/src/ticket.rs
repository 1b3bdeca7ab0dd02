use gittix_shared::domain::TicketStatus;
use serde::Serialize;

/// A ticket as stored and as the API shows it (`price` in dollars on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub id: String,
    pub title: String,
    /// In dollars.
    #[serde(
        rename = "price",
        serialize_with = "gittix_shared::money::serialize_dollars"
    )]
    #[schema(value_type = f64, example = 19.99)]
    pub price_cents: i64,
    /// The seller.
    pub user_id: String,
    /// One more at every change; events carry it so replicas apply them in order.
    pub version: i64,
    /// `for_sale`, `reserved`, `sold` or `withdrawn`.
    #[schema(value_type = String, example = "for_sale")]
    pub status: TicketStatus,
    /// The order that holds or bought it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The version at which the seller last set the terms (listed, edited or withdrew it). A
    /// reservation made from an older version is refused (design, section 5); versions bumped by
    /// reservations and releases leave it alone, so they refuse nobody. Not shown by the API.
    #[serde(skip)]
    pub terms_version: i64,
}

impl Ticket {
    pub fn created_event(&self) -> gittix_shared::events::TicketCreated {
        gittix_shared::events::TicketCreated {
            id: self.id.clone(),
            version: self.version,
            title: self.title.clone(),
            price: self.price_cents,
            user_id: self.user_id.clone(),
        }
    }

    pub fn updated_event(&self) -> gittix_shared::events::TicketUpdated {
        gittix_shared::events::TicketUpdated {
            id: self.id.clone(),
            version: self.version,
            title: self.title.clone(),
            price: self.price_cents,
            user_id: self.user_id.clone(),
            status: self.status,
            order_id: self.order_id.clone(),
            terms_version: Some(self.terms_version),
        }
    }
}

/// The columns of [`Ticket`], for queries.
pub const COLUMNS: &str =
    "id, title, price_cents, user_id, version, status, order_id, terms_version";
