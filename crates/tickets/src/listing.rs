//! The buyers' list of tickets for sale: optional text search, price range, sort and keyset paging.
//!
//! With no parameters it returns every ticket for sale, oldest first, as the original did. With
//! any parameter it returns a page (`limit`, default 20, at most 100) and, when there may be more,
//! the next page's address in a `Link: <...>; rel="next"` header. Paging is by keyset (the last
//! row's sort key and id), so a page costs an index range scan whatever its depth.

use gittix_shared::domain::TicketStatus;
use gittix_shared::fees::Fees;
use gittix_shared::id::is_id;
use gittix_shared::money::parse_dollars;
use gittix_shared::validation::{is_blank, Validator};
use gittix_shared::ApiError;
use serde::{Deserialize, Serialize};

use crate::ticket::{Ticket, COLUMNS};

pub const DEFAULT_PAGE: i64 = 20;
pub const MAX_PAGE: i64 = 100;

/// The query string as sent; every field is optional text, checked by [`ListQuery::parse`].
#[derive(Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Words the title must contain (case-insensitive); no control characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// The lowest price a buyer pays (`totalPrice`), in dollars.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<f64>)]
    pub min_price: Option<String>,
    /// The highest price a buyer pays (`totalPrice`), in dollars.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<f64>)]
    pub max_price: Option<String>,
    /// `oldest` (the default), `newest`, `price` or `-price`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<SortParam>)]
    pub sort: Option<String>,
    /// The page size: 1 to 100, 20 by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// Where the page starts: copied from the previous page's `Link` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// The orderings `sort` accepts.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Only its schema is used; `Sort::parse` reads the text.
pub enum SortParam {
    #[schema(rename = "oldest")]
    Oldest,
    #[schema(rename = "newest")]
    Newest,
    #[schema(rename = "price")]
    Price,
    #[schema(rename = "-price")]
    MinusPrice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Oldest,
    Newest,
    PriceAscending,
    PriceDescending,
}

impl Sort {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "oldest" => Some(Self::Oldest),
            "newest" => Some(Self::Newest),
            "price" => Some(Self::PriceAscending),
            "-price" => Some(Self::PriceDescending),
            _ => None,
        }
    }

    fn by_price(self) -> bool {
        matches!(self, Self::PriceAscending | Self::PriceDescending)
    }

    fn descending(self) -> bool {
        matches!(self, Self::Newest | Self::PriceDescending)
    }
}

/// Where the previous page ended.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    price_cents: Option<i64>,
    id: String,
}

impl Cursor {
    fn encode(ticket: &Ticket, sort: Sort) -> String {
        if sort.by_price() {
            format!("{}_{}", ticket.price_cents, ticket.id)
        } else {
            ticket.id.clone()
        }
    }

    /// The cursor `text` names, if it is one: its id part must be a ticket id (see
    /// `gittix_shared::id`), so nothing else reaches the query.
    fn decode(text: &str, sort: Sort) -> Option<Self> {
        let (price_cents, id) = if sort.by_price() {
            let (price, id) = text.split_once('_')?;
            (Some(price.parse().ok()?), id)
        } else {
            (None, text)
        };
        is_id(id).then(|| Self {
            price_cents,
            id: id.to_owned(),
        })
    }
}

/// A checked list request.
#[derive(Debug)]
pub struct ListQuery {
    search: Option<String>,
    min_cents: Option<i64>,
    max_cents: Option<i64>,
    sort: Sort,
    /// `None`: everything, as the original list did.
    limit: Option<i64>,
    after: Option<Cursor>,
}

impl ListQuery {
    /// `params` checked; the price bounds, given as totals (what a buyer sees), become bounds
    /// on the listing price under `fees`.
    pub fn parse(params: &ListParams, fees: &Fees) -> Result<Self, ApiError> {
        let paged = params.q.is_some()
            || params.min_price.is_some()
            || params.max_price.is_some()
            || params.sort.is_some()
            || params.limit.is_some()
            || params.cursor.is_some();
        let mut validator = Validator::new();
        // Query parameters follow the shared text rule: every one below but `q` refuses a
        // control character with its own message already. `q` is checked as it is used, trimmed.
        validator.no_control_characters(params.q.as_deref().map(str::trim), "q", "q");
        let price = |text: &Option<String>| text.as_deref().map(parse_dollars);
        let (min, max) = (price(&params.min_price), price(&params.max_price));
        validator.check(
            !matches!(min, Some(Err(_))),
            "minPrice",
            "minPrice must be a price greater than 0",
        );
        validator.check(
            !matches!(max, Some(Err(_))),
            "maxPrice",
            "maxPrice must be a price greater than 0",
        );
        let sort = params.sort.as_deref().map(Sort::parse);
        validator.check(
            !matches!(sort, Some(None)),
            "sort",
            "sort must be oldest, newest, price or -price",
        );
        let sort = sort.flatten().unwrap_or(Sort::Oldest);
        let limit = page_size(params.limit.as_deref(), &mut validator);
        // An empty cursor (or one of invisible characters) is none: the first page.
        let after = params
            .cursor
            .as_deref()
            .filter(|c| !is_blank(c))
            .map(|c| Cursor::decode(c, sort));
        validator.check(
            !matches!(after, Some(None)),
            "cursor",
            "cursor is not valid for this sort",
        );
        validator.finish()?;
        // Only invisible characters is no search.
        let search = params
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !is_blank(q))
            .map(str::to_lowercase);
        Ok(Self {
            search,
            min_cents: min
                .and_then(Result::ok)
                .map(|total| fees.lowest_price_totalling_at_least(total)),
            max_cents: max
                .and_then(Result::ok)
                .map(|total| fees.highest_price_totalling_at_most(total)),
            sort,
            limit: paged.then(|| limit.unwrap_or(DEFAULT_PAGE)),
            after: after.flatten(),
        })
    }

    /// The SQL and its parameters, numbered `$1...` for both backends, at the time `now` (ms):
    /// tickets for events that have started are no longer for sale.
    fn sql(&self, now: i64) -> (String, Vec<Param>) {
        let mut params = Vec::new();
        let bind = |params: &mut Vec<Param>, p: Param| {
            params.push(p);
            format!("${}", params.len())
        };
        let for_sale = bind(&mut params, Param::Status(TicketStatus::ForSale));
        let now = bind(&mut params, Param::Int(now));
        let mut sql = format!(
            "SELECT {COLUMNS} FROM tickets WHERE status = {for_sale} \
             AND (event_starts_at IS NULL OR event_starts_at > {now})"
        );
        if let Some(search) = &self.search {
            let pattern = format!("%{}%", escape_like(search));
            sql += &format!(
                " AND title_key LIKE {} ESCAPE '\\'",
                bind(&mut params, Param::Text(pattern))
            );
        }
        if let Some(min) = self.min_cents {
            sql += &format!(" AND price_cents >= {}", bind(&mut params, Param::Int(min)));
        }
        if let Some(max) = self.max_cents {
            sql += &format!(" AND price_cents <= {}", bind(&mut params, Param::Int(max)));
        }
        let comparison = if self.sort.descending() { "<" } else { ">" };
        if let Some(after) = &self.after {
            let id = bind(&mut params, Param::Text(after.id.clone()));
            match after.price_cents {
                Some(price) => {
                    let price = bind(&mut params, Param::Int(price));
                    sql += &format!(" AND (price_cents, id) {comparison} ({price}, {id})");
                }
                None => sql += &format!(" AND id {comparison} {id}"),
            }
        }
        let direction = if self.sort.descending() {
            "DESC"
        } else {
            "ASC"
        };
        sql += &if self.sort.by_price() {
            format!(" ORDER BY price_cents {direction}, id {direction}")
        } else {
            format!(" ORDER BY id {direction}")
        };
        if let Some(limit) = self.limit {
            sql += &format!(" LIMIT {}", bind(&mut params, Param::Int(limit)));
        }
        (sql, params)
    }

    /// The page, and the cursor of the next one when the page is full.
    pub async fn run(
        &self,
        db: &gittix_shared::db::Db,
    ) -> Result<(Vec<Ticket>, Option<String>), sqlx::Error> {
        let (sql, params) = self.sql(gittix_shared::time::unix_millis());
        let mut query = sqlx::query_as::<_, Ticket>(&sql);
        for param in params {
            query = match param {
                Param::Text(text) => query.bind(text),
                Param::Int(n) => query.bind(n),
                Param::Status(status) => query.bind(status),
            };
        }
        let tickets = query.fetch_all(db.pool()).await?;
        let full = self
            .limit
            .is_some_and(|l| usize::try_from(l).is_ok_and(|l| tickets.len() == l));
        let next = full
            .then(|| tickets.last().map(|t| Cursor::encode(t, self.sort)))
            .flatten();
        Ok((tickets, next))
    }
}

/// The `limit` parameter of a list: 1 to [`MAX_PAGE`], recorded in `validator` otherwise.
/// `None` when it is absent (or refused).
pub fn page_size(text: Option<&str>, validator: &mut Validator) -> Option<i64> {
    let limit = text.map(str::parse::<i64>);
    let valid = match &limit {
        Some(Ok(n)) => (1..=MAX_PAGE).contains(n),
        Some(Err(_)) => false,
        None => true,
    };
    validator.check(valid, "limit", "limit must be between 1 and 100");
    limit.and_then(Result::ok).filter(|_| valid)
}

/// `text` for a `LIKE ... ESCAPE '\' pattern: its own `%`, `_` and `\` match themselves.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

enum Param {
    Text(String),
    Int(i64),
    Status(TicketStatus),
}

/// The `Link` header value for the page after `cursor`, keeping the other parameters.
pub fn next_link(params: &ListParams, cursor: String) -> String {
    let next = ListParams {
        q: params.q.clone(),
        min_price: params.min_price.clone(),
        max_price: params.max_price.clone(),
        sort: params.sort.clone(),
        limit: params.limit.clone(),
        cursor: Some(cursor),
    };
    let query = serde_urlencoded::to_string(&next).unwrap_or_default();
    format!("</api/tickets?{query}>; rel=\"next\"")
}

/// Properties over generated query strings and cursors.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn ticket(id: String, price_cents: i64) -> Ticket {
        Ticket {
            id,
            title: "t".into(),
            price_cents,
            user_id: "u".into(),
            version: 0,
            status: TicketStatus::ForSale,
            order_id: None,
            terms_version: 0,
            section: None,
            seat_row: None,
            seat: None,
            face_value_cents: None,
            event_id: None,
            event_name: None,
            event_venue: None,
            event_city: None,
            event_starts_at: None,
            buyer_id: None,
            delivery: None,
            delivery_due_at: None,
        }
    }

    proptest! {
        /// Whatever the query string, the answer is a 400 or a query within the documented
        /// bounds: a page of 1 to 100, prices in range.
        #[test]
        fn any_query_string_is_refused_or_bounded(
            pairs in proptest::collection::vec(
                (
                    prop::sample::select(vec!["q", "minPrice", "maxPrice", "sort", "limit", "cursor", "other"]),
                    prop_oneof![
                        "-?[0-9]{1,12}(\\.[0-9]{0,4})?",
                        prop::sample::select(vec!["oldest", "newest", "price", "-price", "1e3", "NaN", "inf", ""]).prop_map(str::to_owned),
                        "[ -~]{0,12}",
                    ],
                ),
                0..6,
            ),
        ) {
            let query = serde_urlencoded::to_string(&pairs).unwrap();
            let Ok(params) = serde_urlencoded::from_str::<ListParams>(&query) else {
                return Ok(());
            };
            if let Ok(list) = ListQuery::parse(&params, &Fees::default()) {
                if let Some(limit) = list.limit {
                    prop_assert!((1..=MAX_PAGE).contains(&limit), "{query}");
                }
                for cents in [list.min_cents, list.max_cents].into_iter().flatten() {
                    prop_assert!((1..=gittix_shared::money::MAX_PRICE_CENTS).contains(&cents), "{query}");
                }
            } else {
                // Refused only for a parameter it knows: an unknown one is ignored.
                prop_assert!(pairs.iter().any(|(name, _)| *name != "other"), "{query}");
            }
        }

        /// A cursor whose id part is not a ticket id is refused before any query, in every
        /// sort (`?cursor=%00` was a 500 on PostgreSQL).
        #[test]
        fn a_cursor_naming_no_id_is_refused(id in "\\PC{0,40}|[0-9a-f-]{36}", price in 1..=100_000_000i64) {
            prop_assume!(!is_id(&id));
            prop_assert_eq!(Cursor::decode(&id, Sort::Oldest), None);
            prop_assert_eq!(Cursor::decode(&format!("{price}_{id}"), Sort::PriceAscending), None);
        }

        /// A cursor handed out in a `Link` header reads back as the row it names, in every sort.
        #[test]
        fn a_cursor_reads_back_as_written(bits in any::<u128>(), price in 1..=100_000_000i64) {
            let id = uuid::Uuid::from_u128(bits).to_string();
            for sort in [Sort::Oldest, Sort::Newest, Sort::PriceAscending, Sort::PriceDescending] {
                let written = Cursor::encode(&ticket(id.clone(), price), sort);
                let read = Cursor::decode(&written, sort);
                prop_assert_eq!(read, Some(Cursor {
                    price_cents: sort.by_price().then_some(price),
                    id: id.clone(),
                }));
            }
        }
    }
}
