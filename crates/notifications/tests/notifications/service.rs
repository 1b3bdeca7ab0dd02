//! The service on its own database and bus, in both topologies, writing its emails as files:
//! events in, emails out, each once.

use std::time::Duration;

use gittix_notifications::{build, NotificationsConfig};
use gittix_shared::bus::Message;
use gittix_shared::domain::{CancelReason, OrderStatus};
use gittix_shared::events::*;
use gittix_shared::time::{iso8601, unix_millis};
use gittix_testing::mail::{self, unique_address, ReceivedMail};
use gittix_testing::{eventually, publish_event, topology_tests, Spawned, TestPlatform, Topology};
use sqlx::Row;

use super::{Adapter, TestMailer};

const PUBLIC_URL: &str = "https://tickets.example.test";

struct App {
    spawned: Spawned,
    mailer: TestMailer,
}

impl App {
    async fn spawn(topology: Topology) -> Self {
        Self::spawn_with(topology, Adapter::Files, NotificationsConfig::default()).await
    }

    async fn spawn_with(topology: Topology, adapter: Adapter, config: NotificationsConfig) -> Self {
        let mailer = TestMailer::new(adapter);
        let sending = mailer.mailer.clone();
        let spawned = Spawned::new(topology, async move |db, platform| {
            let mut platform = platform.clone();
            platform.public_url = PUBLIC_URL.to_owned();
            platform.fees.seller = gittix_shared::fees::FeeRate::from_basis_points(1000).unwrap();
            build(&config, sending, db, &platform).await
        })
        .await;
        Self { spawned, mailer }
    }

    fn bus(&self) -> &dyn gittix_shared::bus::Bus {
        &*self.spawned.platform.platform.bus
    }

    async fn publish<E: Event>(&self, event: &E) -> String {
        publish_event(self.bus(), event).await
    }

    async fn mail_to(&self, to: &str, count: usize) -> Vec<ReceivedMail> {
        mail::wait_for(&self.mailer.inbox, to, count).await
    }

    /// A user whose address the service knows.
    async fn user(&self, who: &str) -> (String, String) {
        let (id, email) = (uuid::Uuid::now_v7().to_string(), unique_address(who));
        self.publish(&UserCreated {
            id: id.clone(),
            email: email.clone(),
            version: 0,
        })
        .await;
        (id, email)
    }

    /// The recorded emails of `kind`, with their status and attempts.
    async fn recorded(&self, kind: &str) -> Vec<(String, String, i64)> {
        sqlx::query("SELECT recipient, status, attempts FROM messages WHERE kind = $1")
            .bind(kind)
            .fetch_all(self.spawned.database.db.pool())
            .await
            .unwrap()
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect()
    }
}

/// A ticket for an event, sold: the events of its sale up to the completion.
struct Sale {
    order: String,
    ticket: String,
    buyer: (String, String),
    seller: (String, String),
}

async fn sell(app: &App) -> Sale {
    let (buyer, seller) = (app.user("buyer").await, app.user("seller").await);
    let (event, ticket, order) = (
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::now_v7().to_string(),
    );
    app.publish(&EventCreated {
        id: event.clone(),
        version: 0,
        name: "The Midnight Owls".into(),
        venue: "Roundhouse".into(),
        city: "London".into(),
        starts_at: "2027-06-01T18:00:00.000Z".into(),
        created_by: seller.0.clone(),
    })
    .await;
    app.publish(&TicketCreated {
        id: ticket.clone(),
        version: 0,
        title: "Row 5, Seat 12".into(),
        price: 4000,
        user_id: seller.0.clone(),
        terms: SaleTerms {
            event_id: Some(event),
            event_starts_at: Some("2027-06-01T18:00:00.000Z".into()),
            face_value: Some(3500),
        },
    })
    .await;
    app.publish(&OrderCreated {
        id: order.clone(),
        version: 0,
        status: OrderStatus::Created,
        user_id: buyer.0.clone(),
        expires_at: iso8601(unix_millis() + 900_000),
        ticket: OrderedTicket {
            id: ticket.clone(),
            price: 4000,
            version: Some(0),
        },
        total: Some(4500),
    })
    .await;
    Sale {
        order,
        ticket,
        buyer,
        seller,
    }
}

async fn complete(app: &App, sale: &Sale) {
    app.publish(&OrderCompleted {
        id: sale.order.clone(),
        version: 2,
        ticket: TicketRef {
            id: sale.ticket.clone(),
        },
        user_id: Some(sale.buyer.0.clone()),
        total: Some(4500),
    })
    .await;
}

fn delivered(sale: &Sale, at_sale: bool) -> TicketDelivered {
    TicketDelivered {
        id: sale.ticket.clone(),
        order_id: sale.order.clone(),
        buyer_id: sale.buyer.0.clone(),
        seller_id: sale.seller.0.clone(),
        event_starts_at: None,
        at_sale,
    }
}

topology_tests! {
    async fn a_new_account_gets_its_welcome_and_a_reset_its_link(topology) {
        let app = App::spawn(topology).await;
        let (id, email) = app.user("new").await;
        let expires_at = unix_millis() + 600_000;
        app.publish(&VerificationRequested { user_id: id.clone(), email: email.clone(), token: "v-token".into(), expires_at, welcome: true }).await;
        app.publish(&PasswordResetRequested { user_id: id.clone(), email: email.clone(), token: "r-token".into(), expires_at }).await;
        let mails = app.mail_to(&email, 2).await;
        let welcome = mails.iter().find(|m| m.subject.starts_with("Welcome")).expect("the welcome email");
        assert_eq!(welcome.link_starting(PUBLIC_URL).as_deref(), Some("https://tickets.example.test/auth/verify-email?token=v-token"));
        assert!(welcome.html.contains("href=\"https://tickets.example.test/auth/verify-email?token=v-token\""), "{}", welcome.html);
        let reset = mails.iter().find(|m| m.subject == "Reset your GitTix password").expect("the reset email");
        assert_eq!(reset.link_starting(PUBLIC_URL).as_deref(), Some("https://tickets.example.test/auth/reset-password?token=r-token"));
        assert!(reset.text.contains(&gittix_shared::time::readable(expires_at)), "{}", reset.text);
    }

    async fn a_sale_sends_the_receipt_the_sold_deadline_and_then_the_ticket(topology) {
        let app = App::spawn(topology).await;
        let sale = sell(&app).await;
        complete(&app, &sale).await;
        let due_at = unix_millis() + 48 * 3_600_000;
        app.publish(&DeliveryScheduled { ticket_id: sale.ticket.clone(), order_id: sale.order.clone(), due_at }).await;

        let receipt = &app.mail_to(&sale.buyer.1, 1).await[0];
        assert_eq!(receipt.subject, "Your receipt for Row 5, Seat 12");
        for line in ["The Midnight Owls, Roundhouse, London, Tue 1 Jun 2027, 18:00 UTC", "Price:  $40.00", "Fee:    $5.00", "Total:  $45.00"] {
            assert!(receipt.text.contains(line), "{line:?} in {}", receipt.text);
        }
        assert_eq!(receipt.link_starting(PUBLIC_URL), Some(format!("{PUBLIC_URL}/orders/{}", sale.order)));

        let sold = &app.mail_to(&sale.seller.1, 1).await[0];
        assert_eq!(sold.subject, "You sold Row 5, Seat 12");
        let deadline = gittix_shared::time::readable(due_at);
        for line in ["Seller fee:  $4.00", "You receive: $36.00", &format!("Upload the ticket's file by {deadline}")] {
            assert!(sold.text.contains(line), "{line:?} in {}", sold.text);
        }
        // Its reminder waits for 12 hours before the deadline.
        assert_eq!(app.recorded("delivery_reminder").await, [(sale.seller.1.clone(), "pending".to_owned(), 0)]);

        app.publish(&delivered(&sale, false)).await;
        let mails = app.mail_to(&sale.buyer.1, 2).await;
        let ready = mails.iter().find(|m| m.subject == "Your ticket is ready: Row 5, Seat 12").expect("the ticket email");
        assert_eq!(ready.link_starting(PUBLIC_URL), Some(format!("{PUBLIC_URL}/my-tickets")));
        eventually("the reminder cancelled", || async {
            (app.recorded("delivery_reminder").await[0].1 == "cancelled").then_some(())
        }).await;
        assert_eq!(mail::to(&app.mailer.inbox, &sale.seller.1).len(), 1, "the seller got only the sold email");
    }

    async fn a_ticket_sold_with_its_file_tells_the_seller_without_a_deadline(topology) {
        let app = App::spawn(topology).await;
        let sale = sell(&app).await;
        complete(&app, &sale).await;
        app.publish(&delivered(&sale, true)).await;
        let sold = &app.mail_to(&sale.seller.1, 1).await[0];
        assert!(sold.text.contains("The file you uploaded is already the buyer's."), "{}", sold.text);
        assert!(!sold.text.contains("Upload the ticket's file by"), "{}", sold.text);
        let buyer = app.mail_to(&sale.buyer.1, 2).await;
        let subjects: Vec<&str> = buyer.iter().map(|m| m.subject.as_str()).collect();
        assert!(subjects.contains(&"Your ticket is ready: Row 5, Seat 12"), "{subjects:?}");
    }

    async fn refunds_payouts_and_expired_orders_are_told(topology) {
        let app = App::spawn(topology).await;
        let sale = sell(&app).await;
        app.publish(&ChargeRefunded { id: "ch".into(), order_id: sale.order.clone(), stripe_refund_id: "re_1".into() }).await;
        let refund = &app.mail_to(&sale.buyer.1, 1).await[0];
        assert_eq!(refund.subject, "Refunded: $45.00 for Row 5, Seat 12");
        app.publish(&PayoutPaid(PayoutOutcome {
            id: "po".into(), order_id: sale.order.clone(), seller_id: sale.seller.0.clone(), amount: 3600,
            stripe_transfer_id: Some("tr_1".into()), reason: None,
        })).await;
        let payout = &app.mail_to(&sale.seller.1, 1).await[0];
        assert_eq!(payout.subject, "Payout sent: $36.00 for Row 5, Seat 12");
        assert_eq!(payout.link_starting(PUBLIC_URL), Some(format!("{PUBLIC_URL}/payouts")));

        // A cancellation by the buyer tells nobody; an expiry tells the buyer.
        let other = sell(&app).await;
        let cancel = |reason| OrderCancelled { id: other.order.clone(), version: 1, ticket: TicketRef { id: other.ticket.clone() }, reason };
        app.publish(&cancel(CancelReason::Cancelled)).await;
        app.publish(&cancel(CancelReason::Expired)).await;
        let expired = &app.mail_to(&other.buyer.1, 1).await[0];
        assert_eq!(expired.subject, "Your order for Row 5, Seat 12 expired");
        assert_eq!(expired.link_starting(PUBLIC_URL), Some(format!("{PUBLIC_URL}/tickets/{}", other.ticket)));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(mail::to(&app.mailer.inbox, &other.buyer.1).len(), 1);
    }

    async fn an_email_waits_for_what_it_names_and_uses_the_newest_address(topology) {
        let app = App::spawn(topology).await;
        let (buyer, seller) = (uuid::Uuid::now_v7().to_string(), uuid::Uuid::now_v7().to_string());
        let (ticket, order) = (uuid::Uuid::now_v7().to_string(), uuid::Uuid::now_v7().to_string());
        // The completion first: nothing it names is known yet.
        app.publish(&OrderCompleted { id: order.clone(), version: 2, ticket: TicketRef { id: ticket.clone() }, user_id: Some(buyer.clone()), total: Some(1000) }).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (old, new) = (unique_address("old"), unique_address("new"));
        app.publish(&UserCreated { id: buyer.clone(), email: old.clone(), version: 0 }).await;
        app.publish(&UserUpdated { id: buyer.clone(), email: new.clone(), version: 1 }).await;
        app.publish(&TicketCreated { id: ticket.clone(), version: 0, title: "Standing".into(), price: 1000, user_id: seller, terms: SaleTerms::default() }).await;
        app.publish(&OrderCreated {
            id: order.clone(), version: 0, status: OrderStatus::Created, user_id: buyer.clone(), expires_at: iso8601(unix_millis()),
            ticket: OrderedTicket { id: ticket.clone(), price: 1000, version: Some(0) }, total: None,
        }).await;
        let receipt = &app.mail_to(&new, 1).await[0];
        assert_eq!(receipt.subject, "Your receipt for Standing");
        assert!(!receipt.text.contains("Event:"), "a ticket without an event names none: {}", receipt.text);
        // An older version of the address arriving late changes nothing.
        app.publish(&UserUpdated { id: buyer.clone(), email: old.clone(), version: 0 }).await;
        app.publish(&ChargeRefunded { id: "ch".into(), order_id: order, stripe_refund_id: "re".into() }).await;
        app.mail_to(&new, 2).await;
        assert!(mail::to(&app.mailer.inbox, &old).is_empty());
    }

    async fn an_event_delivered_twice_makes_one_email(topology) {
        let app = App::spawn(topology).await;
        // A second replica of the service on the same database, reading its own bus: the same
        // event reaches both, as a redelivery after a crash would, and no bus can drop the copy.
        let other_platform = TestPlatform::new(topology).await;
        let other = build(&NotificationsConfig::default(), app.mailer.mailer.clone(), app.spawned.database.db.clone(), &other_platform.platform).await.unwrap();
        let (id, email) = app.user("twice").await;
        let event = VerificationRequested { user_id: id, email: email.clone(), token: "t".into(), expires_at: unix_millis() + 60_000, welcome: true };
        let message = Message::new(uuid::Uuid::now_v7().to_string(), VerificationRequested::SUBJECT, serde_json::to_vec(&event).unwrap());
        // The other replica applies it first...
        other_platform.platform.bus.publish(&message).await.unwrap();
        app.mail_to(&email, 1).await;
        // ...then this one gets it too, followed by an event of its own: once that one's email
        // is out, the copy (delivered before it) has been handled.
        app.bus().publish(&message).await.unwrap();
        let (sentinel_id, sentinel) = app.user("after").await;
        app.publish(&VerificationRequested { user_id: sentinel_id, email: sentinel.clone(), token: "u".into(), expires_at: unix_millis() + 60_000, welcome: true }).await;
        app.mail_to(&sentinel, 1).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(app.recorded("welcome").await.iter().filter(|r| r.0 == email).count(), 1);
        assert_eq!(mail::to(&app.mailer.inbox, &email).len(), 1);
        drop(other_platform);
        other.stop(Duration::from_secs(5)).await;
    }

    async fn a_link_that_expired_unsent_is_not_sent_and_a_sent_one_is_erased(topology) {
        let app = App::spawn(topology).await;
        let (id, email) = app.user("links").await;
        app.publish(&PasswordResetRequested { user_id: id.clone(), email: email.clone(), token: "late".into(), expires_at: unix_millis() - 1 }).await;
        app.publish(&PasswordResetRequested { user_id: id, email: email.clone(), token: "live".into(), expires_at: unix_millis() + 600_000 }).await;
        let sent = app.mail_to(&email, 1).await;
        assert!(sent[0].text.contains("token=live"), "{}", sent[0].text);
        let rows = eventually("both settled", || async {
            let rows: Vec<(String, String)> = sqlx::query_as("SELECT status, text_body || html_body FROM messages WHERE kind = 'password_reset' ORDER BY created_at")
                .fetch_all(app.spawned.database.db.pool()).await.unwrap();
            rows.iter().all(|r| r.0 != "pending").then_some(rows)
        }).await;
        let statuses: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(statuses.iter().filter(|s| **s == "cancelled").count(), 1, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == "sent").count(), 1, "{statuses:?}");
        assert!(rows.iter().all(|r| r.1.is_empty()), "no working link is kept: {rows:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(mail::to(&app.mailer.inbox, &email).len(), 1);
    }

    async fn events_from_long_before_the_service_only_fill_its_copies(topology) {
        let app = App::spawn(topology).await;
        let (id, email) = (uuid::Uuid::now_v7().to_string(), unique_address("old"));
        // Published two hours before this service first started, as the bus keeps them.
        let two_hours_ago = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 7200;
        let old_id = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, two_hours_ago, 0)).to_string();
        let old = |subject: &str, payload: serde_json::Value| Message::new(uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, two_hours_ago, 0)).to_string(), subject, serde_json::to_vec(&payload).unwrap());
        app.bus().publish(&old(UserCreated::SUBJECT, serde_json::json!({"id": id, "email": email, "version": 0}))).await.unwrap();
        let welcome = VerificationRequested { user_id: id.clone(), email: email.clone(), token: "t".into(), expires_at: unix_millis() + 60_000, welcome: true };
        app.bus().publish(&Message::new(old_id, VerificationRequested::SUBJECT, serde_json::to_vec(&welcome).unwrap())).await.unwrap();
        // A reset asked for now reaches the address the old user:created gave.
        app.publish(&PasswordResetRequested { user_id: id, email: email.clone(), token: "r".into(), expires_at: unix_millis() + 60_000 }).await;
        let mails = app.mail_to(&email, 1).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let subjects: Vec<String> = mail::to(&app.mailer.inbox, &email).iter().map(|m| m.subject.clone()).collect();
        assert_eq!(subjects, ["Reset your GitTix password"], "{mails:?}");
        assert!(app.recorded("welcome").await.is_empty());
    }

    async fn the_mail_server_s_failures_are_retried_or_recorded(topology) {
        let config = NotificationsConfig { mail_retry_seconds: 0.05, ..NotificationsConfig::default() };
        let app = App::spawn_with(topology, Adapter::Smtp, config).await;
        for (id, email) in [("bounced", "gone@bounce.invalid"), ("deferred", "busy@later.invalid")] {
            app.publish(&VerificationRequested { user_id: id.into(), email: email.into(), token: "t".into(), expires_at: unix_millis() + 60_000, welcome: true }).await;
        }
        let (email, arrived) = app.user("fine").await;
        app.publish(&VerificationRequested { user_id: email, email: arrived.clone(), token: "t".into(), expires_at: unix_millis() + 60_000, welcome: true }).await;
        app.mail_to(&arrived, 1).await;
        let states = eventually("a refusal recorded and a deferral retried", || async {
            let rows = app.recorded("welcome").await;
            let status_of = |to: &str| rows.iter().find(|r| r.0 == to).map(|r| (r.1.clone(), r.2));
            match (status_of("gone@bounce.invalid"), status_of("busy@later.invalid")) {
                (Some(bounced), Some(deferred)) if bounced.0 == "failed" && deferred.1 >= 3 => Some((bounced, deferred)),
                _ => None,
            }
        }).await;
        assert_eq!(states.0, ("failed".to_owned(), 1), "a permanent failure is tried once");
        assert_eq!(states.1.0, "pending", "a temporary failure is tried again");
        assert_eq!(app.recorded("welcome").await.iter().find(|r| r.0 == arrived).unwrap().1, "sent");
    }

    async fn a_seller_who_has_not_delivered_is_reminded(topology) {
        // A deadline two seconds away: the reminder goes at half the time left.
        let app = App::spawn(topology).await;
        let sale = sell(&app).await;
        complete(&app, &sale).await;
        let due_at = unix_millis() + 2_000;
        app.publish(&DeliveryScheduled { ticket_id: sale.ticket.clone(), order_id: sale.order.clone(), due_at }).await;
        let mails = app.mail_to(&sale.seller.1, 2).await;
        let reminder = mails.iter().find(|m| m.subject.starts_with("Reminder: deliver Row 5, Seat 12 by")).expect("the reminder");
        assert_eq!(reminder.link_starting(PUBLIC_URL), Some(format!("{PUBLIC_URL}/listings")));
        app.publish(&TicketUndelivered { id: sale.ticket.clone(), order_id: sale.order.clone(), buyer_id: sale.buyer.0.clone(), seller_id: sale.seller.0.clone() }).await;
        let mails = app.mail_to(&sale.seller.1, 3).await;
        assert!(mails.iter().any(|m| m.subject == "Row 5, Seat 12 was not delivered in time"));
    }
}
