//! Every adapter delivers an email whole (recipient, sender, subject, both parts, its
//! Message-ID) and tells a failure that will pass from one that will not.

use gittix_notifications::{Mail, SendError};
use gittix_testing::mail::{self, unique_address};

use super::{Adapter, TestMailer, FROM};

fn mail_to(to: &str) -> Mail {
    Mail {
        id: uuid::Uuid::now_v7().simple().to_string(),
        to: to.to_owned(),
        subject: "Your receipt for Row 5, Seat 12 — Café".to_owned(),
        text: "Total: $45.00\nhttp://127.0.0.1:3000/orders/o-1\n".to_owned(),
        html: "<p>Total: <strong>$45.00</strong></p>".to_owned(),
    }
}

async fn an_email_arrives_whole(adapter: Adapter) {
    let mailer = TestMailer::new(adapter);
    let to = unique_address("buyer");
    let sent = mail_to(&to);
    mailer.mailer.send(&sent).await.unwrap();
    let received = mail::wait_for(&mailer.inbox, &to, 1).await;
    assert_eq!(received.len(), 1, "{received:?}");
    let got = &received[0];
    assert_eq!(got.to, vec![to.clone()]);
    assert!(FROM.contains(&got.from), "from {}", got.from);
    assert_eq!(got.subject, sent.subject);
    assert_eq!(
        got.text.replace("\r\n", "\n").trim_end(),
        sent.text.trim_end()
    );
    assert!(got.html.contains("<strong>$45.00</strong>"), "{}", got.html);
    assert_eq!(got.message_id, format!("{}@gittix", sent.id));
}

async fn an_address_that_is_not_one_fails_for_good(adapter: Adapter) {
    let mailer = TestMailer::new(adapter);
    let error = mailer
        .mailer
        .send(&mail_to("not an address"))
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Permanent(_)), "{error:?}");
}

mod files {
    use super::*;

    #[tokio::test]
    async fn an_email_arrives_whole() {
        super::an_email_arrives_whole(Adapter::Files).await;
    }

    #[tokio::test]
    async fn an_address_that_is_not_one_fails_for_good() {
        super::an_address_that_is_not_one_fails_for_good(Adapter::Files).await;
    }

    #[tokio::test]
    async fn the_same_email_sent_again_replaces_its_file() {
        let mailer = TestMailer::new(Adapter::Files);
        let to = unique_address("buyer");
        let sent = mail_to(&to);
        mailer.mailer.send(&sent).await.unwrap();
        mailer.mailer.send(&sent).await.unwrap();
        assert_eq!(mail::to(&mailer.inbox, &to).len(), 1);
    }
}

mod smtp {
    use super::*;

    #[tokio::test]
    async fn an_email_arrives_whole() {
        super::an_email_arrives_whole(Adapter::Smtp).await;
    }

    #[tokio::test]
    async fn an_address_that_is_not_one_fails_for_good() {
        super::an_address_that_is_not_one_fails_for_good(Adapter::Smtp).await;
    }

    #[tokio::test]
    async fn a_recipient_the_server_refuses_for_good_is_a_permanent_failure() {
        let mailer = TestMailer::new(Adapter::Smtp);
        let error = mailer
            .mailer
            .send(&mail_to("gone@bounce.invalid"))
            .await
            .unwrap_err();
        assert!(matches!(error, SendError::Permanent(_)), "{error:?}");
    }

    #[tokio::test]
    async fn a_recipient_the_server_defers_is_a_temporary_failure() {
        let mailer = TestMailer::new(Adapter::Smtp);
        let error = mailer
            .mailer
            .send(&mail_to("busy@later.invalid"))
            .await
            .unwrap_err();
        assert!(matches!(error, SendError::Temporary(_)), "{error:?}");
    }

    #[tokio::test]
    async fn a_server_that_does_not_answer_is_a_temporary_failure() {
        let port = gittix_testing::free_port();
        let mailer =
            gittix_notifications::mail::smtp::Smtp::new(&format!("smtp://127.0.0.1:{port}"), FROM)
                .unwrap();
        let error = gittix_notifications::Mailer::send(&mailer, &mail_to(&unique_address("x")))
            .await
            .unwrap_err();
        assert!(matches!(error, SendError::Temporary(_)), "{error:?}");
    }

    #[tokio::test]
    async fn a_server_that_accepts_and_stays_silent_is_a_temporary_failure() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // Takes the connection and never says a word, not even its greeting.
        let silent = tokio::spawn(async move {
            let (_connection, _) = listener.accept().await.unwrap();
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        });
        let timeout = std::time::Duration::from_millis(500);
        let mailer = gittix_notifications::mail::smtp::Smtp::with_timeout(
            &format!("smtp://127.0.0.1:{port}"),
            FROM,
            timeout,
        )
        .unwrap();
        let started = std::time::Instant::now();
        let error = gittix_notifications::Mailer::send(&mailer, &mail_to(&unique_address("x")))
            .await
            .unwrap_err();
        assert!(matches!(error, SendError::Temporary(_)), "{error:?}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "gave up after {:?}",
            started.elapsed()
        );
        silent.abort();
    }

    #[test]
    fn a_url_that_is_not_an_smtp_server_is_refused_at_start() {
        assert!(gittix_notifications::mail::smtp::Smtp::new("http://127.0.0.1:25", FROM).is_err());
        assert!(gittix_notifications::mail::smtp::Smtp::new(
            "smtp://127.0.0.1:25",
            "not an address"
        )
        .is_err());
    }
}
