//! Which event makes which email. The `user:*`, `event:*`, `ticket:created`/`updated` and
//! `order:created` events only update what the emails name (`replicas`). Each of the others
//! records its emails in the transaction that records the event in the inbox, so a redelivered
//! event records nothing more. An email that names something not replicated yet (the
//! `order:created` of a completion, say, still on its way) waits: the event is delivered again
//! later, and nothing of it is kept meanwhile.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use gittix_shared::db::Db;
use gittix_shared::domain::CancelReason;
use gittix_shared::events::{
    ChargeRefunded, DeliveryScheduled, Event, EventCreated, EventUpdated, OrderCancelled,
    OrderCompleted, OrderCreated, PasswordResetRequested, PayoutPaid, TicketCreated,
    TicketDelivered, TicketUndelivered, TicketUpdated, UserCreated, UserUpdated,
    VerificationRequested,
};
use gittix_shared::fees::Fees;
use gittix_shared::inbox;
use gittix_shared::listener::{Listener, Outcome, Received};
use gittix_shared::service::Platform;
use gittix_shared::time::{parse_iso8601, readable, unix_millis};
use sqlx::{Any, AnyConnection, Transaction};
use tokio::sync::Notify;

use crate::emails::{self, dollars, EventLine, Links};
use crate::messages::{self, Kind, NewMessage};
use crate::replicas::{self, EventRow, OrderRow, Replica, TicketRow, UserRow};
use crate::CONSUMER_GROUP;

/// What every handler works with.
pub(crate) struct Context {
    pub db: Db,
    pub links: Links,
    pub fees: Fees,
    /// How long before a delivery deadline the seller is reminded.
    pub reminder_lead: Duration,
    /// Wakes the sender when an email is recorded.
    pub recorded: Arc<Notify>,
    /// Events that happened before this (unix ms) send no email: they only fill the copies.
    pub emails_since: i64,
}

type Ctx = Arc<Context>;

pub(crate) fn listener(context: Context, platform: &Platform) -> Listener {
    let ctx = Arc::new(context);
    let listener = platform.consumer_group(CONSUMER_GROUP);
    let listener = replicate(listener, &ctx, |_, u: UserCreated| {
        UserRow::new(u.id, u.email, u.version)
    });
    let listener = replicate(listener, &ctx, |_, u: UserUpdated| {
        UserRow::new(u.id, u.email, u.version)
    });
    let listener = replicate(listener, &ctx, |_, e: EventCreated| {
        EventRow::new(e.id, e.version, e.name, e.venue, e.city, e.starts_at)
    });
    let listener = replicate(listener, &ctx, |_, e: EventUpdated| {
        EventRow::new(e.id, e.version, e.name, e.venue, e.city, e.starts_at)
    });
    let listener = replicate(listener, &ctx, |_, t: TicketCreated| {
        TicketRow::new(t.id, t.version, t.title, t.user_id, t.terms.event_id)
    });
    let listener = replicate(listener, &ctx, |_, t: TicketUpdated| {
        TicketRow::new(t.id, t.version, t.title, t.user_id, t.terms.event_id)
    });
    let listener = replicate(listener, &ctx, order_row);
    let listener = on(listener, &ctx, verification_requested);
    let listener = on(listener, &ctx, password_reset_requested);
    let listener = on(listener, &ctx, order_completed);
    let listener = on(listener, &ctx, order_cancelled);
    let listener = on(listener, &ctx, delivery_scheduled);
    let listener = on(listener, &ctx, ticket_delivered);
    let listener = on(listener, &ctx, ticket_undelivered);
    let listener = on(listener, &ctx, payout_paid);
    on(listener, &ctx, charge_refunded)
}

fn on<E, H, Fut>(listener: Listener, ctx: &Ctx, handler: H) -> Listener
where
    E: Event,
    H: Fn(Ctx, Received<E>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<Outcome>> + Send + 'static,
{
    let ctx = ctx.clone();
    listener.on(move |event: Received<E>| handler(ctx.clone(), event))
}

// --- what the emails name --------------------------------------------------------------------

/// Keeps the record `row` makes of each `E` (no inbox: storing a version again changes nothing).
fn replicate<E: Event, R: Replica>(
    listener: Listener,
    ctx: &Ctx,
    row: fn(&Context, E) -> R,
) -> Listener {
    let ctx = ctx.clone();
    listener.on(move |event: Received<E>| {
        let ctx = ctx.clone();
        async move {
            let row = row(&ctx, event.data);
            let mut conn = ctx.db.pool().acquire().await?;
            row.store(&mut conn).await?;
            Ok(Outcome::Done)
        }
    })
}

fn order_row(ctx: &Context, order: OrderCreated) -> OrderRow {
    let price = order.ticket.price;
    OrderRow {
        id: order.id,
        buyer_id: order.user_id,
        ticket_id: order.ticket.id,
        price,
        // Older publishers sent no total: the fees are the platform's, the same everywhere.
        total: order.total.unwrap_or_else(|| ctx.fees.total(price)),
    }
}

// --- the emails --------------------------------------------------------------------------------

/// Applies the event `event_id` once: `emails` decides its emails from what is replicated, in
/// the transaction that records the event; `None` means something it names is not here yet.
async fn record_once<F>(ctx: &Ctx, event_id: &str, emails: F) -> anyhow::Result<Outcome>
where
    F: for<'c> FnOnce(
        &'c mut AnyConnection,
    ) -> std::pin::Pin<
        Box<dyn Future<Output = anyhow::Result<Option<Vec<NewMessage>>>> + Send + 'c>,
    >,
{
    if occurred_at(event_id).is_some_and(|at| at < ctx.emails_since) {
        // Older than the service: the bus kept it from before notifications was deployed. Its
        // email would be news no longer (a reset link long dead, a receipt days late).
        return Ok(Outcome::Done);
    }
    let mut tx: Transaction<'static, Any> = ctx.db.pool().begin().await?;
    if !inbox::record(&mut tx, event_id).await? {
        return Ok(Outcome::Done);
    }
    // Dropping the transaction un-records the event: it is applied when delivered again.
    let Some(new) = emails(&mut tx).await? else {
        return Ok(Outcome::NotYet);
    };
    for message in new {
        messages::record(&mut tx, event_id, message).await?;
    }
    tx.commit().await?;
    ctx.recorded.notify_one();
    Ok(Outcome::Done)
}

/// When the event `id` happened (unix ms), read from its UUIDv7 id, as every outbox writes
/// them; `None` for an id of another form.
fn occurred_at(id: &str) -> Option<i64> {
    let (seconds, nanos) = uuid::Uuid::parse_str(id).ok()?.get_timestamp()?.to_unix();
    i64::try_from(seconds * 1000 + u64::from(nanos / 1_000_000)).ok()
}

/// An email to send now.
fn now(kind: Kind, user_id: &str, to: String, rendered: emails::Rendered) -> NewMessage {
    NewMessage {
        kind,
        user_id: user_id.to_owned(),
        recipient: to,
        rendered,
        order_id: None,
        send_at: unix_millis(),
        expires_at: None,
    }
}

/// Expands to the value of an `Option`, or makes the enclosing email decision wait (`None`).
macro_rules! or_wait {
    ($found:expr) => {
        match $found {
            Some(found) => found,
            None => return Ok(None),
        }
    };
}

async fn verification_requested(
    ctx: Ctx,
    event: Received<VerificationRequested>,
) -> anyhow::Result<Outcome> {
    let request = event.data;
    let email = emails::Verify {
        welcome: request.welcome,
        link: ctx.links.verify_email(&request.token),
        expires: readable(request.expires_at),
    };
    let kind = if request.welcome {
        Kind::Welcome
    } else {
        Kind::Verification
    };
    let message = NewMessage {
        expires_at: Some(request.expires_at),
        ..now(kind, &request.user_id, request.email, email.render()?)
    };
    record_once(&ctx, &event.id, |_| {
        Box::pin(async { Ok(Some(vec![message])) })
    })
    .await
}

async fn password_reset_requested(
    ctx: Ctx,
    event: Received<PasswordResetRequested>,
) -> anyhow::Result<Outcome> {
    let request = event.data;
    let email = emails::PasswordReset {
        link: ctx.links.reset_password(&request.token),
        expires: readable(request.expires_at),
    };
    // To the account's address as auth has it (not whatever was typed into the form), while
    // the link works.
    let message = NewMessage {
        expires_at: Some(request.expires_at),
        ..now(
            Kind::PasswordReset,
            &request.user_id,
            request.email,
            email.render()?,
        )
    };
    record_once(&ctx, &event.id, |_| {
        Box::pin(async { Ok(Some(vec![message])) })
    })
    .await
}

/// The order and its ticket, both replicated.
async fn sale(
    conn: &mut AnyConnection,
    order_id: &str,
) -> anyhow::Result<Option<(OrderRow, TicketRow)>> {
    let order = or_wait!(replicas::order(conn, order_id).await?);
    let ticket = or_wait!(replicas::ticket(conn, &order.ticket_id).await?);
    Ok(Some((order, ticket)))
}

fn event_line(event: &EventRow) -> EventLine {
    EventLine {
        name: event.name.clone(),
        place: format!("{}, {}", event.venue, event.city),
        when: parse_iso8601(&event.starts_at).map_or_else(|| event.starts_at.clone(), readable),
    }
}

async fn order_completed(ctx: Ctx, event: Received<OrderCompleted>) -> anyhow::Result<Outcome> {
    let order_id = event.data.id;
    let c = ctx.clone();
    record_once(&ctx, &event.id, move |conn| {
        Box::pin(async move {
            let (order, ticket) = or_wait!(sale(conn, &order_id).await?);
            let show = match &ticket.event_id {
                Some(id) => Some(or_wait!(replicas::event(conn, id).await?)),
                None => None,
            };
            let to = or_wait!(replicas::user_email(conn, &order.buyer_id).await?);
            let email = emails::Receipt {
                title: ticket.title,
                event: show.as_ref().map(event_line),
                price: dollars(order.price),
                fee: dollars(order.total - order.price),
                total: dollars(order.total),
                link: c.links.order(&order.id),
            };
            Ok(Some(vec![now(
                Kind::Receipt,
                &order.buyer_id,
                to,
                email.render()?,
            )]))
        })
    })
    .await
}

async fn order_cancelled(ctx: Ctx, event: Received<OrderCancelled>) -> anyhow::Result<Outcome> {
    // Only an order that ran out unpaid is news to its buyer; the others were their doing, or
    // answered on the page at once.
    if event.data.reason != CancelReason::Expired {
        return Ok(Outcome::Done);
    }
    let order_id = event.data.id;
    let c = ctx.clone();
    record_once(&ctx, &event.id, move |conn| {
        Box::pin(async move {
            let order = or_wait!(replicas::order(conn, &order_id).await?);
            let ticket = or_wait!(replicas::ticket(conn, &order.ticket_id).await?);
            let to = or_wait!(replicas::user_email(conn, &order.buyer_id).await?);
            let email = emails::OrderExpired {
                title: ticket.title,
                link: c.links.ticket(&ticket.id),
            };
            Ok(Some(vec![now(
                Kind::OrderExpired,
                &order.buyer_id,
                to,
                email.render()?,
            )]))
        })
    })
    .await
}

/// The seller's "sold", with `deliver_by` when the file is still due.
fn sold(
    ctx: &Context,
    order: &OrderRow,
    ticket: &TicketRow,
    deliver_by: Option<String>,
) -> emails::Sold {
    let fee = ctx.fees.seller.of(order.price);
    emails::Sold {
        title: ticket.title.clone(),
        price: dollars(order.price),
        fee: dollars(fee),
        share: dollars(order.price - fee),
        deliver_by,
        // Payouts are released a hold after the event, or after delivery without one (section 8).
        paid_out: if ticket.event_id.is_some() {
            "paid out after the event"
        } else {
            "paid out once the buyer has the ticket"
        },
        link: ctx.links.listings(),
    }
}

/// When to remind a seller of a deadline at `due_at`: the lead before it, or halfway there
/// when the deadline is nearer than the lead; `None` when it has passed.
fn reminder_at(due_at: i64, now: i64, lead: Duration) -> Option<i64> {
    if due_at <= now {
        return None;
    }
    let lead = gittix_shared::time::millis(lead);
    Some(due_at.saturating_sub(lead).max(now + (due_at - now) / 2))
}

async fn delivery_scheduled(
    ctx: Ctx,
    event: Received<DeliveryScheduled>,
) -> anyhow::Result<Outcome> {
    let scheduled = event.data;
    let c = ctx.clone();
    record_once(&ctx, &event.id, move |conn| {
        Box::pin(async move {
            let (order, ticket) = or_wait!(sale(conn, &scheduled.order_id).await?);
            let to = or_wait!(replicas::user_email(conn, &ticket.seller_id).await?);
            let deliver_by = readable(scheduled.due_at);
            let sold = sold(&c, &order, &ticket, Some(deliver_by.clone()));
            let mut new = vec![now(
                Kind::Sold,
                &ticket.seller_id,
                to.clone(),
                sold.render()?,
            )];
            if let Some(send_at) = reminder_at(scheduled.due_at, unix_millis(), c.reminder_lead) {
                let reminder = emails::DeliveryReminder {
                    title: ticket.title.clone(),
                    deliver_by,
                    link: c.links.listings(),
                };
                new.push(NewMessage {
                    order_id: Some(order.id.clone()),
                    send_at,
                    ..now(
                        Kind::DeliveryReminder,
                        &ticket.seller_id,
                        to,
                        reminder.render()?,
                    )
                });
            }
            Ok(Some(new))
        })
    })
    .await
}

async fn ticket_delivered(ctx: Ctx, event: Received<TicketDelivered>) -> anyhow::Result<Outcome> {
    let delivered = event.data;
    let c = ctx.clone();
    record_once(&ctx, &event.id, move |conn| {
        Box::pin(async move {
            let (order, ticket) = or_wait!(sale(conn, &delivered.order_id).await?);
            let buyer = or_wait!(replicas::user_email(conn, &delivered.buyer_id).await?);
            let mut new = Vec::new();
            if delivered.at_sale {
                let seller = or_wait!(replicas::user_email(conn, &delivered.seller_id).await?);
                let sold = sold(&c, &order, &ticket, None);
                new.push(now(
                    Kind::Sold,
                    &delivered.seller_id,
                    seller,
                    sold.render()?,
                ));
            }
            let ready = emails::TicketReady {
                title: ticket.title,
                link: c.links.my_tickets(),
            };
            new.push(now(
                Kind::TicketReady,
                &delivered.buyer_id,
                buyer,
                ready.render()?,
            ));
            replicas::delivery_decided(conn, &order.id).await?;
            messages::cancel_reminders(conn, &order.id).await?;
            Ok(Some(new))
        })
    })
    .await
}

async fn ticket_undelivered(
    ctx: Ctx,
    event: Received<TicketUndelivered>,
) -> anyhow::Result<Outcome> {
    let missed = event.data;
    let c = ctx.clone();
    record_once(&ctx, &event.id, move |conn| {
        Box::pin(async move {
            let ticket = or_wait!(replicas::ticket(conn, &missed.id).await?);
            let seller = or_wait!(replicas::user_email(conn, &missed.seller_id).await?);
            let email = emails::Undelivered {
                title: ticket.title,
                link: c.links.listings(),
            };
            replicas::delivery_decided(conn, &missed.order_id).await?;
            messages::cancel_reminders(conn, &missed.order_id).await?;
            Ok(Some(vec![now(
                Kind::Undelivered,
                &missed.seller_id,
                seller,
                email.render()?,
            )]))
        })
    })
    .await
}

async fn payout_paid(ctx: Ctx, event: Received<PayoutPaid>) -> anyhow::Result<Outcome> {
    let payout = event.data.0;
    let c = ctx.clone();
    record_once(&ctx, &event.id, move |conn| {
        Box::pin(async move {
            let (_, ticket) = or_wait!(sale(conn, &payout.order_id).await?);
            let to = or_wait!(replicas::user_email(conn, &payout.seller_id).await?);
            let email = emails::PayoutSent {
                title: ticket.title,
                amount: dollars(payout.amount),
                link: c.links.payouts(),
            };
            Ok(Some(vec![now(
                Kind::PayoutSent,
                &payout.seller_id,
                to,
                email.render()?,
            )]))
        })
    })
    .await
}

async fn charge_refunded(ctx: Ctx, event: Received<ChargeRefunded>) -> anyhow::Result<Outcome> {
    let refund = event.data;
    let c = ctx.clone();
    record_once(&ctx, &event.id, move |conn| {
        Box::pin(async move {
            let (order, ticket) = or_wait!(sale(conn, &refund.order_id).await?);
            let to = or_wait!(replicas::user_email(conn, &order.buyer_id).await?);
            // GitTix refunds a charge whole: the order's total.
            let email = emails::Refund {
                title: ticket.title,
                amount: dollars(order.total),
                link: c.links.order(&order.id),
            };
            Ok(Some(vec![now(
                Kind::Refund,
                &order.buyer_id,
                to,
                email.render()?,
            )]))
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn a_seller_is_reminded_the_lead_before_the_deadline_or_halfway_when_nearer() {
        let lead = Duration::from_secs(12 * 3600);
        assert_eq!(reminder_at(48 * HOUR, 0, lead), Some(36 * HOUR));
        assert_eq!(reminder_at(10 * HOUR, 0, lead), Some(5 * HOUR));
        assert_eq!(reminder_at(10 * HOUR, 10 * HOUR, lead), None);
    }
}
