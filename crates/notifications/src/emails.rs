//! Each email's words: a struct of what it says, rendered by two templates (`templates/`, a
//! text part and an HTML part of the same message) and a subject line. Links start with
//! `PUBLIC_URL`.

use askama::Template;
use gittix_shared::money::dollars_text;

/// An email's subject and its two parts.
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Builds the links the emails carry, to pages of the web service.
#[derive(Debug, Clone)]
pub(crate) struct Links {
    public_url: String,
}

impl Links {
    pub fn new(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    fn page(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    pub fn verify_email(&self, token: &str) -> String {
        self.page(&format!("/auth/verify-email?token={token}"))
    }

    pub fn reset_password(&self, token: &str) -> String {
        self.page(&format!("/auth/reset-password?token={token}"))
    }

    pub fn order(&self, order_id: &str) -> String {
        self.page(&format!("/orders/{order_id}"))
    }

    pub fn ticket(&self, ticket_id: &str) -> String {
        self.page(&format!("/tickets/{ticket_id}"))
    }

    pub fn my_tickets(&self) -> String {
        self.page("/my-tickets")
    }

    pub fn listings(&self) -> String {
        self.page("/listings")
    }

    pub fn payouts(&self) -> String {
        self.page("/payouts")
    }
}

/// Cents as the emails write money: `$45.00`, `$1,234.50` is not attempted (the pages do not
/// either).
pub(crate) fn dollars(cents: i64) -> String {
    let text = dollars_text(cents);
    if text.contains('.') {
        format!("${text}")
    } else {
        format!("${text}.00")
    }
}

/// The event a ticket is for, as an email describes it.
#[derive(Debug, Clone)]
pub(crate) struct EventLine {
    pub name: String,
    pub place: String,
    pub when: String,
}

/// Declares an email: its text and HTML templates, rendered from the struct `$email`.
macro_rules! email {
    ($email:ident, $text:literal, $html:literal) => {
        const _: () = {
            #[derive(Template)]
            #[template(path = $text)]
            struct Text<'a> {
                e: &'a $email,
            }

            #[derive(Template)]
            #[template(path = $html)]
            struct Html<'a> {
                e: &'a $email,
            }

            impl $email {
                pub(crate) fn render(&self) -> askama::Result<Rendered> {
                    Ok(Rendered {
                        subject: self.subject(),
                        text: Text { e: self }.render()?,
                        html: Html { e: self }.render()?,
                    })
                }
            }
        };
    };
}

/// A new account's welcome, or a verification link sent again (or for a changed address).
pub(crate) struct Verify {
    pub welcome: bool,
    pub link: String,
    pub expires: String,
}
email!(Verify, "verify.txt", "verify.html");

impl Verify {
    fn subject(&self) -> String {
        if self.welcome {
            "Welcome to GitTix: please confirm your email".to_owned()
        } else {
            "Confirm your email address for GitTix".to_owned()
        }
    }
}

pub(crate) struct PasswordReset {
    pub link: String,
    pub expires: String,
}
email!(PasswordReset, "password_reset.txt", "password_reset.html");

impl PasswordReset {
    fn subject(&self) -> String {
        "Reset your GitTix password".to_owned()
    }
}

/// The buyer's receipt for a completed order.
pub(crate) struct Receipt {
    pub title: String,
    pub event: Option<EventLine>,
    pub price: String,
    pub fee: String,
    pub total: String,
    pub link: String,
}
email!(Receipt, "receipt.txt", "receipt.html");

impl Receipt {
    fn subject(&self) -> String {
        format!("Your receipt for {}", self.title)
    }
}

/// The buyer's ticket file can be downloaded.
pub(crate) struct TicketReady {
    pub title: String,
    pub link: String,
}
email!(TicketReady, "ticket_ready.txt", "ticket_ready.html");

impl TicketReady {
    fn subject(&self) -> String {
        format!("Your ticket is ready: {}", self.title)
    }
}

/// The seller's "sold": what they get, and the delivery deadline when the file is still due.
pub(crate) struct Sold {
    pub title: String,
    pub price: String,
    pub fee: String,
    pub share: String,
    /// `None`: the file was uploaded before the sale and is already the buyer's.
    pub deliver_by: Option<String>,
    /// When the share is paid out: "paid out after the event", or once delivered.
    pub paid_out: &'static str,
    pub link: String,
}
email!(Sold, "sold.txt", "sold.html");

impl Sold {
    fn subject(&self) -> String {
        format!("You sold {}", self.title)
    }
}

/// The seller has not uploaded a sold ticket's file and the deadline is near.
pub(crate) struct DeliveryReminder {
    pub title: String,
    pub deliver_by: String,
    pub link: String,
}
email!(
    DeliveryReminder,
    "delivery_reminder.txt",
    "delivery_reminder.html"
);

impl DeliveryReminder {
    fn subject(&self) -> String {
        format!("Reminder: deliver {} by {}", self.title, self.deliver_by)
    }
}

/// The deadline passed without the file: the sale is refunded, the seller paid nothing.
pub(crate) struct Undelivered {
    pub title: String,
    pub link: String,
}
email!(Undelivered, "undelivered.txt", "undelivered.html");

impl Undelivered {
    fn subject(&self) -> String {
        format!("{} was not delivered in time", self.title)
    }
}

pub(crate) struct PayoutSent {
    pub title: String,
    pub amount: String,
    pub link: String,
}
email!(PayoutSent, "payout_sent.txt", "payout_sent.html");

impl PayoutSent {
    fn subject(&self) -> String {
        format!("Payout sent: {} for {}", self.amount, self.title)
    }
}

pub(crate) struct Refund {
    pub title: String,
    pub amount: String,
    pub link: String,
}
email!(Refund, "refund.txt", "refund.html");

impl Refund {
    fn subject(&self) -> String {
        format!("Refunded: {} for {}", self.amount, self.title)
    }
}

pub(crate) struct OrderExpired {
    pub title: String,
    pub link: String,
}
email!(OrderExpired, "order_expired.txt", "order_expired.html");

impl OrderExpired {
    fn subject(&self) -> String {
        format!("Your order for {} expired", self.title)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_written_with_cents() {
        assert_eq!(dollars(4500), "$45.00");
        assert_eq!(dollars(4550), "$45.50");
        assert_eq!(dollars(5), "$0.05");
    }

    #[test]
    fn html_parts_escape_what_people_wrote_and_text_parts_keep_it() {
        let receipt = Receipt {
            title: "<b>Row 1</b> & more".into(),
            event: None,
            price: dollars(1000),
            fee: dollars(0),
            total: dollars(1000),
            link: Links::new("http://x.test/").order("o1"),
        };
        let rendered = receipt.render().unwrap();
        assert!(
            rendered.text.contains("<b>Row 1</b> & more"),
            "{}",
            rendered.text
        );
        assert!(
            rendered
                .html
                .contains("&#60;b&#62;Row 1&#60;/b&#62; &#38; more"),
            "{}",
            rendered.html
        );
        assert!(!rendered.html.contains("<b>Row 1"), "{}", rendered.html);
        assert!(
            rendered.text.contains("http://x.test/orders/o1"),
            "{}",
            rendered.text
        );
    }
}
