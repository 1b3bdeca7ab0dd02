use serde::Serialize;

/// Where a ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    ForSale,
    /// An active order holds it.
    Reserved,
    /// Its order completed.
    Sold,
    /// Its seller took it off the market.
    Withdrawn,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ForSale => "for_sale",
            Self::Reserved => "reserved",
            Self::Sold => "sold",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::ForSale, Self::Reserved, Self::Sold, Self::Withdrawn]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

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
    #[schema(example = "for_sale")]
    pub status: String,
    /// The order that holds or bought it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
}

impl Ticket {
    pub fn status(&self) -> Option<Status> {
        Status::parse(&self.status)
    }

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
            status: gittix_shared::domain::TicketStatus::parse(&self.status).unwrap(),
            order_id: self.order_id.clone(),
        }
    }
}

/// The columns of [`Ticket`], for queries.
pub const COLUMNS: &str = "id, title, price_cents, user_id, version, status, order_id";
