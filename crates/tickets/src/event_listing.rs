//! `GET /api/events`: upcoming events, soonest first, with optional search (name, venue or
//! city), a city, a date range, and keyset paging (`limit`, default 20, at most 100; the next
//! page's address in a `Link: <...>; rel="next"` header). Every page is an index range scan:
//! `events_by_start`, or `events_by_city_and_start` within a city.

use gittix_shared::db::Db;
use gittix_shared::fees::Fees;
use gittix_shared::id::is_id;
use gittix_shared::time::{parse_iso8601, unix_millis};
use gittix_shared::validation::{is_blank, Validator};
use gittix_shared::ApiError;
use serde::{Deserialize, Serialize};

use crate::event::{Event, EventRow, EVENT_COLUMNS};
use crate::listing::{escape_like, page_size, DEFAULT_PAGE};

/// The query string as sent; every field is optional text, checked by [`EventQuery::parse`].
#[derive(Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// Text the name, the venue or the city contains, as one phrase (case-insensitive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// The city (case-insensitive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Events starting at or after this ISO-8601 time (with its offset); now by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Events starting at or before this ISO-8601 time (with its offset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The page size: 1 to 100, 20 by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// Where the page starts: copied from the previous page's `Link` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// Where the previous page ended: its last event's start and id.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    starts_at: i64,
    id: String,
}

impl Cursor {
    fn encode(event: &EventRow) -> String {
        format!("{}_{}", event.starts_at, event.id)
    }

    /// The cursor `text` names, if it is one (its id part an id, so nothing else reaches SQL).
    fn decode(text: &str) -> Option<Self> {
        let (starts_at, id) = text.split_once('_')?;
        let starts_at = starts_at.parse().ok()?;
        is_id(id).then(|| Self {
            starts_at,
            id: id.to_owned(),
        })
    }
}

/// A checked list request.
#[derive(Debug)]
pub struct EventQuery {
    search: Option<String>,
    city: Option<String>,
    from: i64,
    to: Option<i64>,
    limit: i64,
    after: Option<Cursor>,
}

impl EventQuery {
    pub fn parse(params: &EventParams) -> Result<Self, ApiError> {
        let mut validator = Validator::new();
        validator.no_control_characters(params.q.as_deref(), "q", "q");
        validator.no_control_characters(params.city.as_deref(), "city", "city");
        let time = |text: &Option<String>| text.as_deref().map(|t| parse_iso8601(t.trim()));
        let (from, to) = (time(&params.from), time(&params.to));
        let time_message = |name: &str| format!("{name} must be a date and time with its offset");
        validator.check(!matches!(from, Some(None)), "from", &time_message("from"));
        validator.check(!matches!(to, Some(None)), "to", &time_message("to"));
        if let (Some(Some(from)), Some(Some(to))) = (from, to) {
            validator.check(to >= from, "to", "to must be at or after from");
        }
        let limit = page_size(params.limit.as_deref(), &mut validator);
        let after = params
            .cursor
            .as_deref()
            .filter(|c| !is_blank(c))
            .map(Cursor::decode);
        validator.check(
            !matches!(after, Some(None)),
            "cursor",
            "cursor is not valid",
        );
        validator.finish()?;
        let key = |text: &Option<String>| {
            text.as_deref()
                .map(str::trim)
                .filter(|t| !is_blank(t))
                .map(str::to_lowercase)
        };
        // Upcoming only: an event that has started is gone from the list, whatever `from` says.
        let now = unix_millis();
        Ok(Self {
            search: key(&params.q),
            city: key(&params.city),
            from: from.flatten().map_or(now, |from| from.max(now)),
            to: to.flatten(),
            limit: limit.unwrap_or(DEFAULT_PAGE),
            after: after.flatten(),
        })
    }

    /// The SQL and its parameters, numbered `$1...` for both backends.
    fn sql(&self) -> (String, Vec<Param>) {
        let mut params = Vec::new();
        let mut bind = |p: Param| {
            params.push(p);
            format!("${}", params.len())
        };
        let mut sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events e WHERE e.starts_at >= {}",
            bind(Param::Int(self.from))
        );
        if let Some(to) = self.to {
            sql += &format!(" AND e.starts_at <= {}", bind(Param::Int(to)));
        }
        if let Some(city) = &self.city {
            sql += &format!(" AND e.city_key = {}", bind(Param::Text(city.clone())));
        }
        if let Some(search) = &self.search {
            let pattern = bind(Param::Text(format!("%{}%", escape_like(search))));
            sql += &format!(
                " AND (e.name_key LIKE {pattern} ESCAPE '\\' OR e.venue_key LIKE {pattern} ESCAPE '\\' \
                 OR e.city_key LIKE {pattern} ESCAPE '\\')"
            );
        }
        if let Some(after) = &self.after {
            let starts = bind(Param::Int(after.starts_at));
            let id = bind(Param::Text(after.id.clone()));
            sql += &format!(" AND (e.starts_at, e.id) > ({starts}, {id})");
        }
        sql += &format!(
            " ORDER BY e.starts_at, e.id LIMIT {}",
            bind(Param::Int(self.limit))
        );
        (sql, params)
    }

    /// The page, and the cursor of the next one when the page is full.
    pub async fn run(&self, db: &Db, fees: &Fees) -> sqlx::Result<(Vec<Event>, Option<String>)> {
        let (sql, params) = self.sql();
        let mut query = sqlx::query_as::<_, EventRow>(&sql);
        for param in params {
            query = match param {
                Param::Text(text) => query.bind(text),
                Param::Int(n) => query.bind(n),
            };
        }
        let rows = query.fetch_all(db.pool()).await?;
        let full = usize::try_from(self.limit).is_ok_and(|l| rows.len() == l);
        let next = full.then(|| rows.last().map(Cursor::encode)).flatten();
        let page = rows.into_iter().map(|row| Event::new(row, fees)).collect();
        Ok((page, next))
    }
}

enum Param {
    Text(String),
    Int(i64),
}

/// The `Link` header value for the page after `cursor`, keeping the other parameters.
pub fn next_link(params: &EventParams, cursor: String) -> String {
    let next = EventParams {
        q: params.q.clone(),
        city: params.city.clone(),
        from: params.from.clone(),
        to: params.to.clone(),
        limit: params.limit.clone(),
        cursor: Some(cursor),
    };
    let query = serde_urlencoded::to_string(&next).unwrap_or_default();
    format!("</api/events?{query}>; rel=\"next\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_refuses_what_names_no_event() {
        let id = uuid::Uuid::now_v7().to_string();
        let written = format!("1800000000000_{id}");
        assert_eq!(
            Cursor::decode(&written),
            Some(Cursor {
                starts_at: 1_800_000_000_000,
                id
            })
        );
        for bad in [
            "",
            "12",
            "x_y",
            "1_' OR 1=1",
            "_0190a5d4-7c2e-7b3a-9f1e-2d4c6b8a0e1f",
        ] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn bad_parameters_are_refused_and_a_past_from_means_now() {
        let params = |q: &str| serde_urlencoded::from_str::<EventParams>(q).unwrap();
        for bad in [
            "from=tomorrow",
            "to=2027-01-01",
            "limit=0",
            "limit=101",
            "cursor=nope",
            "q=%00",
            "from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z",
        ] {
            assert!(EventQuery::parse(&params(bad)).is_err(), "{bad}");
        }
        let query = EventQuery::parse(&params("from=2000-01-01T00:00:00Z")).unwrap();
        assert!(query.from >= unix_millis() - 1_000);
    }
}

/// The list's plans on both backends, over 10,000 upcoming events and 100,000 tickets: a page
/// is read from the index in its order (no sort of the whole table), each event's count and
/// cheapest ticket from the tickets index, and an event's tickets through that index.
#[cfg(test)]
mod plans {
    use gittix_shared::db::{Backend, Db};
    use gittix_testing::{fresh_database, TestDatabase, BACKENDS};

    use super::*;

    const EVENTS: i64 = 10_000;
    const TICKETS: i64 = 100_000;
    const ROWS_PER_INSERT: i64 = 500;

    /// A database holding `EVENTS` events in 20 cities, minutes apart, and
    /// `TICKETS` tickets for them, with fresh statistics.
    async fn catalogue(backend: Backend) -> TestDatabase {
        let database = fresh_database(backend).await;
        database.db.migrate(&crate::MIGRATIONS).await.unwrap();
        let now = unix_millis();
        let mut ids = Vec::new();
        for first in (0..EVENTS).step_by(usize::try_from(ROWS_PER_INSERT).unwrap()) {
            // Four parameters a row: id, name (lowercase, so its own key), city (likewise), start.
            let rows: Vec<String> = (0..ROWS_PER_INSERT)
                .map(|i| {
                    let p = 4 * i;
                    format!(
                        "(${}, ${}, 'venue', ${}, ${}, 'venue', ${}, ${}, 'u', 0, 0, 0)",
                        p + 1,
                        p + 2,
                        p + 3,
                        p + 2,
                        p + 3,
                        p + 4
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO events (id, name, venue, city, name_key, venue_key, city_key, starts_at, created_by, version, created_at, updated_at) VALUES {}",
                rows.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for i in first..first + ROWS_PER_INSERT {
                let id = uuid::Uuid::now_v7().to_string();
                ids.push(id.clone());
                query = query
                    .bind(id)
                    .bind(format!("event {i}"))
                    .bind(format!("city {}", i % 20))
                    .bind(now + (i + 1) * 864_000);
            }
            query.execute(database.db.pool()).await.unwrap();
        }
        // Ten tickets an event, most for sale.
        for first in (0..TICKETS).step_by(usize::try_from(ROWS_PER_INSERT).unwrap()) {
            let rows: Vec<String> = (0..ROWS_PER_INSERT)
                .map(|i| {
                    let p = 4 * i;
                    format!(
                        "(${}, 'seat', 'seat', ${}, 'u', 0, ${}, 0, 0, ${})",
                        p + 1,
                        p + 2,
                        p + 3,
                        p + 4
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO tickets (id, title, title_key, price_cents, user_id, version, status, created_at, updated_at, event_id) VALUES {}",
                rows.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for i in first..first + ROWS_PER_INSERT {
                let status = if i % 7 == 0 { "sold" } else { "for_sale" };
                query = query
                    .bind(uuid::Uuid::now_v7().to_string())
                    .bind(1_000 + i % 9_000)
                    .bind(status)
                    .bind(ids[usize::try_from(i % EVENTS).unwrap()].clone());
            }
            query.execute(database.db.pool()).await.unwrap();
        }
        sqlx::query("ANALYZE")
            .execute(database.db.pool())
            .await
            .unwrap();
        database
    }

    async fn plan(db: &Db, backend: Backend, query: &EventQuery) -> String {
        let (sql, params) = query.sql();
        explain(db, backend, &sql, params).await
    }

    /// The plan of `sql` with `params`, one line per step.
    async fn explain(db: &Db, backend: Backend, sql: &str, params: Vec<Param>) -> String {
        let explain = match backend {
            Backend::Sqlite => format!("EXPLAIN QUERY PLAN {sql}"),
            Backend::Postgres => format!("EXPLAIN {sql}"),
        };
        let mut rows = sqlx::query(&explain);
        for param in params {
            rows = match param {
                Param::Text(text) => rows.bind(text),
                Param::Int(n) => rows.bind(n),
            };
        }
        let rows = rows.fetch_all(db.pool()).await.unwrap();
        let column = match backend {
            Backend::Sqlite => 3,
            Backend::Postgres => 0,
        };
        rows.iter()
            .map(|row| sqlx::Row::get::<String, _>(row, column))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn query(text: &str) -> EventQuery {
        EventQuery::parse(&serde_urlencoded::from_str(text).unwrap()).unwrap()
    }

    /// One catalogue per backend (100,000 rows take a while to write) for both lists.
    #[tokio::test]
    async fn a_page_of_upcoming_events_and_an_events_tickets_are_read_from_indexes_in_order() {
        for backend in BACKENDS {
            let database = catalogue(backend).await;
            an_events_tickets_are_found_through_its_index(&database.db, backend).await;
            for (text, index) in [
                ("", "events_by_start"),
                (
                    "cursor=1800000000000_0190a5d4-7c2e-7b3a-9f1e-2d4c6b8a0e1f",
                    "events_by_start",
                ),
                ("city=city+3", "events_by_city_and_start"),
            ] {
                let plan = plan(&database.db, backend, &query(text)).await;
                assert!(plan.contains(index), "{backend:?} {text:?}:\n{plan}");
                assert!(
                    plan.contains("tickets_by_event_status_and_price"),
                    "{backend:?} {text:?}: counted from the tickets index\n{plan}"
                );
                assert!(
                    !sorts(&plan, backend),
                    "{backend:?} {text:?}: no sort\n{plan}"
                );
            }
        }
    }

    /// Whether the plan sorts rows rather than reading them in order from an index.
    fn sorts(plan: &str, backend: Backend) -> bool {
        match backend {
            Backend::Sqlite => plan.contains("TEMP B-TREE"),
            Backend::Postgres => plan
                .lines()
                .any(|l| l.trim_start().starts_with("Sort") || l.contains("-> Sort")),
        }
    }

    /// An event's page: its tickets for sale are found through the event's own index, not by a
    /// scan of the table or of every ticket for sale in price order. (PostgreSQL may sort the
    /// few rows it finds; SQLite reads them in order.)
    async fn an_events_tickets_are_found_through_its_index(db: &Db, backend: Backend) {
        let event: String = sqlx::query_scalar("SELECT id FROM events ORDER BY starts_at LIMIT 1")
            .fetch_one(db.pool())
            .await
            .unwrap();
        let params = vec![Param::Text(event), Param::Text("for_sale".to_owned())];
        let sql = crate::event_store::tickets_for_sale_sql();
        let plan = explain(db, backend, &sql, params).await;
        let scans_more = ["tickets_by_status_and_price", "Seq Scan", "SCAN tickets"]
            .iter()
            .any(|step| plan.contains(step));
        assert!(
            plan.contains("tickets_by_event_status_and_price") && !scans_more,
            "{backend:?} an event's tickets:\n{plan}"
        );
        if backend == Backend::Sqlite {
            assert!(
                !sorts(&plan, backend),
                "{backend:?} an event's tickets: no sort\n{plan}"
            );
        }
    }
}
