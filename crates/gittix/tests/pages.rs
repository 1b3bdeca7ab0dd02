//! The web pages over plain HTTP, as a browser without JavaScript (or a forger) sends them:
//! forms work, forms without a valid CSRF token change nothing, and pages carry their
//! security headers.

#[path = "support/gittix.rs"]
mod gittix;
#[path = "support/site.rs"]
mod site;

use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use site::{unique_email, Site};

struct Visitor {
    client: reqwest::Client,
    base: String,
    cookies: Vec<String>,
}

impl Visitor {
    fn new(site: &Site) -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: site.url(""),
            cookies: Vec::new(),
        }
    }

    /// Keeps the cookies a response sets, as a browser would.
    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for header in response.headers().get_all(SET_COOKIE) {
            let pair = header
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_owned();
            let name = pair.split('=').next().unwrap().to_owned();
            self.cookies.retain(|c| !c.starts_with(&format!("{name}=")));
            self.cookies.push(pair);
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookies.join("; "))
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        Page {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    async fn post_fields(&mut self, path: &str, form: &[(String, String)]) -> reqwest::Response {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookies.join("; "))
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        response
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let fields: Vec<(String, String)> = form
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.post_fields(path, &fields).await
    }
}

struct Page {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: String,
}

/// The CSRF token in a page's forms.
fn form_token(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token");
    let rest = &page[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn forms_work_without_javascript() {
    let site = Site::start();
    let mut visitor = Visitor::new(&site);
    let page = visitor.get("/auth/signup").await.body;
    let token = form_token(&page);
    let signed_up = visitor
        .post(
            "/auth/signup",
            &[
                ("csrf", &token),
                ("email", &unique_email("nojs")),
                ("password", "secret"),
                ("next", "/listings"),
            ],
        )
        .await;
    assert_eq!(signed_up.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_up.headers()[LOCATION], "/listings");
    assert!(visitor.cookies.iter().any(|c| c.starts_with("session=")));

    // Signed in, the forms carry a token bound to the new session: the old one is refused.
    let stale = visitor
        .post(
            "/tickets/new",
            &[("csrf", &token), ("title", "Stale"), ("price", "15")],
        )
        .await;
    assert_eq!(stale.status(), StatusCode::FORBIDDEN);
    let token = form_token(&visitor.get("/tickets/new").await.body);
    let sold = visitor
        .post(
            "/tickets/new",
            &[
                ("csrf", &token),
                ("title", "No Script Live"),
                ("price", "15"),
            ],
        )
        .await;
    assert_eq!(sold.status(), StatusCode::SEE_OTHER);
    let ticket_page = sold.headers()[LOCATION].to_str().unwrap().to_owned();
    let page = visitor.get(&ticket_page).await.body;
    assert!(page.contains("No Script Live") && page.contains("This is your listing, at $15.00."));
    assert!(page.contains(&site.buyer_pays(1500)), "all in: {page}");
    let listings = visitor.get("/listings").await.body;
    assert!(listings.contains("No Script Live"));
}

#[tokio::test]
async fn a_form_without_the_visitors_token_changes_nothing() {
    let site = Site::start();
    let mut visitor = Visitor::new(&site);
    let page = visitor.get("/auth/signup").await.body;
    let token = form_token(&page);

    // No token; a made-up token; another visitor's token (whose cookie differs).
    let forged_email = unique_email("forged");
    let forged_email = forged_email.as_str();
    let mut other = Visitor::new(&site);
    let other_page = other.get("/auth/signup").await.body;
    let forged = [
        vec![("email", forged_email), ("password", "secret")],
        vec![
            ("csrf", "00ff"),
            ("email", forged_email),
            ("password", "secret"),
        ],
    ];
    for form in &forged {
        let refused = visitor.post("/auth/signup", form).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(refused.text().await.unwrap().contains("Form expired"));
    }
    let other_token = form_token(&other_page);
    assert_ne!(other_token, token, "each visitor has their own token");
    let refused = visitor
        .post(
            "/auth/signup",
            &[
                ("csrf", &other_token),
                ("email", forged_email),
                ("password", "secret"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // Nothing was created: signing in as the forged account fails.
    let page = visitor.get("/auth/signin").await.body;
    let signin = visitor
        .post(
            "/auth/signin",
            &[
                ("csrf", &form_token(&page)),
                ("email", forged_email),
                ("password", "secret"),
            ],
        )
        .await;
    assert_eq!(signin.status(), StatusCode::BAD_REQUEST);
    assert!(signin.text().await.unwrap().contains("Invalid credentials"));
}

#[tokio::test]
async fn pages_carry_security_headers_and_safe_cookies() {
    let site = Site::start();
    let mut visitor = Visitor::new(&site);
    let home = visitor.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("<main id=\"main\""));
    let headers = &home.headers;
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "same-origin");
    let csrf_cookie = headers[SET_COOKIE].to_str().unwrap();
    assert!(csrf_cookie.starts_with("csrf="));
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Lax"));

    let style = visitor.get("/assets/style.css").await;
    assert_eq!(style.headers[CONTENT_TYPE], "text/css; charset=utf-8");
    assert!(style.body.contains("--brand"));

    // Unknown pages get a page; unknown API routes keep the API's JSON shape.
    let missing = visitor.get("/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("Page not found"));
    // Error pages carry the same headers as the others.
    for name in [
        "content-security-policy",
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
    ] {
        assert_eq!(
            missing.headers[name], home.headers[name],
            "{name} on the 404 page"
        );
    }
    let missing_api = visitor.get("/api/no/such/route").await;
    assert_eq!(missing_api.status, StatusCode::NOT_FOUND);
    assert_eq!(missing_api.body, r#"{"errors":[{"message":"Not Found"}]}"#);
}

#[tokio::test]
async fn an_id_that_is_not_an_id_is_a_missing_page() {
    let site = Site::start();
    let mut visitor = Visitor::new(&site);
    for path in [
        "/tickets/..%2Fmine",
        "/tickets/x%3Fq=1",
        "/orders/a%20b",
        "/tickets/a%2Fb/edit",
    ] {
        let page = visitor.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.body.contains("Page not found"), "{path}");
    }
}

/// The address a form's answer redirects to.
#[track_caller]
fn redirected_to(response: &reqwest::Response) -> String {
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "a redirect from {}",
        response.url()
    );
    response.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// The sign-out page ends every session of the account: a copy of the cookie taken before is
/// signed out too.
#[tokio::test]
async fn sign_out_everywhere_from_the_sign_out_page() {
    let site = Site::start();
    let mut visitor = Visitor::new(&site);
    sign_up(&mut visitor, "everywhere").await;
    let mut copy = Visitor::new(&site);
    copy.cookies = visitor.cookies.clone();
    assert!(!api(&copy, "/api/users/currentuser").await["currentUser"].is_null());

    let page = visitor.get("/auth/signout").await.body;
    assert!(
        page.contains("action=\"/auth/signout-everywhere\""),
        "{page}"
    );
    let token = form_token(&page);
    let ended = visitor
        .post("/auth/signout-everywhere", &[("csrf", &token)])
        .await;
    assert_eq!(redirected_to(&ended), "/");
    assert!(api(&visitor, "/api/users/currentuser").await["currentUser"].is_null());
    // Auth refuses the copy at once; the other services within a second (tests/sessions.rs).
    assert!(api(&copy, "/api/users/currentuser").await["currentUser"].is_null());
}

async fn sign_up(visitor: &mut Visitor, name: &str) {
    let token = form_token(&visitor.get("/auth/signup").await.body);
    let email = unique_email(name);
    let form = [
        ("csrf", token.as_str()),
        ("email", &email),
        ("password", "secret"),
    ];
    redirected_to(&visitor.post("/auth/signup", &form).await);
}

/// Reads `path` of the API with the visitor's cookies.
async fn api(visitor: &Visitor, path: &str) -> serde_json::Value {
    visitor
        .client
        .get(format!("{}{path}", visitor.base))
        .header(COOKIE, visitor.cookies.join("; "))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Every form that changes something refuses a post without the visitor's token, and a visitor
/// cannot edit, withdraw, pay for or cancel what belongs to another account. Checked by what the
/// API shows afterwards, not only by the pages' answers.
#[tokio::test]
async fn every_form_needs_the_token_and_the_owner() {
    let site = Site::start();
    let mut seller = Visitor::new(&site);
    sign_up(&mut seller, "guard-seller").await;
    let token = form_token(&seller.get("/tickets/new").await.body);
    let form = [
        ("csrf", token.as_str()),
        ("title", "Guarded Gig"),
        ("price", "25"),
    ];
    let ticket_page = redirected_to(&seller.post("/tickets/new", &form).await);
    let ticket = ticket_page.trim_start_matches("/tickets/").to_owned();
    let mut buyer = Visitor::new(&site);
    sign_up(&mut buyer, "guard-buyer").await;

    let hijack = [
        ("title", "Hijacked"),
        ("price", "1"),
        ("card", "4242 4242 4242 4242"),
    ];
    let ticket_forms = [
        format!("/tickets/{ticket}/purchase"),
        format!("/tickets/{ticket}/edit"),
        format!("/tickets/{ticket}/withdraw"),
    ];
    for path in ticket_forms.iter().map(String::as_str).chain([
        "/tickets/new",
        "/auth/signout",
        "/auth/forgot-password",
        "/auth/reset-password",
        "/auth/verify-email",
        "/auth/verify-email/resend",
        "/payouts/account",
        "/payouts/onboarding/acct_guarded",
    ]) {
        for visitor in [&mut seller, &mut buyer] {
            let refused = visitor.post(path, &hijack).await;
            assert_eq!(
                refused.status(),
                StatusCode::FORBIDDEN,
                "{path} without a token"
            );
        }
    }
    let shown = api(&buyer, &format!("/api/tickets/{ticket}")).await;
    assert_eq!(
        (shown["title"].as_str(), shown["status"].as_str()),
        (Some("Guarded Gig"), Some("for_sale"))
    );
    assert!(
        api(&buyer, "/api/users/currentuser").await["currentUser"].is_object(),
        "still signed in"
    );
    assert_eq!(
        api(&seller, "/api/payouts/account").await,
        serde_json::json!({"status": "none"}),
        "no payout account was started"
    );

    // The buyer, with a valid token, cannot change the seller's ticket, nor see its edit form.
    let edit_form = buyer.get(&format!("/tickets/{ticket}/edit")).await;
    assert_eq!(edit_form.status, StatusCode::FORBIDDEN);
    assert!(
        edit_form.body.contains("belongs to another account")
            && !edit_form.body.contains("name=\"title\"")
    );
    for path in [
        format!("/tickets/{ticket}/edit"),
        format!("/tickets/{ticket}/withdraw"),
    ] {
        let token = form_token(&buyer.get(&ticket_page).await.body);
        let form = [
            ("csrf", token.as_str()),
            ("title", "Hijacked"),
            ("price", "1"),
        ];
        let refused = buyer.post(&path, &form).await;
        assert!(
            !refused.status().is_success() && !refused.status().is_redirection(),
            "{path}: {}",
            refused.status()
        );
    }
    let shown = api(&buyer, &format!("/api/tickets/{ticket}")).await;
    assert_eq!(
        (
            shown["title"].as_str(),
            shown["status"].as_str(),
            shown["version"].as_i64()
        ),
        (Some("Guarded Gig"), Some("for_sale"), Some(0))
    );

    // The buyer reserves it; the seller can neither pay for nor cancel the buyer's order.
    let token = form_token(&buyer.get(&ticket_page).await.body);
    let order_page = redirected_to(
        &buyer
            .post(&format!("/tickets/{ticket}/purchase"), &[("csrf", &token)])
            .await,
    );
    let order = order_page.trim_start_matches("/orders/").to_owned();
    for path in [
        format!("/orders/{order}/pay"),
        format!("/orders/{order}/cancel"),
    ] {
        let refused = buyer.post(&path, &hijack).await;
        assert_eq!(
            refused.status(),
            StatusCode::FORBIDDEN,
            "{path} without a token"
        );
        let token = form_token(&seller.get("/tickets/new").await.body);
        // A test card number in simulator mode, the token Stripe.js would make with Stripe's keys.
        let form = [
            ("csrf", token.as_str()),
            ("card", "4242 4242 4242 4242"),
            ("token", "tok_visa"),
        ];
        let refused = seller.post(&path, &form).await;
        assert!(
            !refused.status().is_success() && !refused.status().is_redirection(),
            "{path}: {}",
            refused.status()
        );
    }
    let seen_by_seller = seller.get(&order_page).await;
    assert!(seen_by_seller.body.contains("belongs to another account"));
    let shown = api(&buyer, &format!("/api/orders/{order}")).await;
    // Untouched: not cancelled (the tickets service may have confirmed it meanwhile).
    assert!(
        shown["status"] == "created" || shown["status"] == "awaiting:payment",
        "the order is untouched: {shown}"
    );

    // The buyer pays with the card that asks for 3-D Secure; nobody else answers the check, and
    // nobody answers it without the buyer's form token.
    let token = form_token(&buyer.get(&order_page).await.body);
    let asks = [
        ("csrf", token.as_str()),
        ("card", "4000 0027 6000 3184"),
        ("token", "pm_card_authenticationRequired"),
    ];
    let paid = buyer.post(&format!("/orders/{order}/pay"), &asks).await;
    let challenge = match paid.status() {
        StatusCode::SEE_OTHER => redirected_to(&paid),
        status => panic!("paying: {status} {}", paid.text().await.unwrap_or_default()),
    };
    let payment = challenge
        .strip_prefix("/payments/")
        .and_then(|rest| rest.strip_suffix("/challenge"))
        .unwrap_or_else(|| panic!("the check's page: {challenge}"))
        .to_owned();
    let refused = buyer.post(&challenge, &[("answer", "complete")]).await;
    assert_eq!(
        refused.status(),
        StatusCode::FORBIDDEN,
        "the check without a token"
    );
    let seen_by_seller = seller.get(&challenge).await;
    assert_eq!(seen_by_seller.status, StatusCode::FORBIDDEN);
    assert!(seen_by_seller.body.contains("belongs to another account"));
    let token = form_token(&seller.get("/tickets/new").await.body);
    for answer in ["complete", "done"] {
        let refused = seller
            .post(&challenge, &[("csrf", token.as_str()), ("answer", answer)])
            .await;
        assert!(
            !refused.status().is_success() && !refused.status().is_redirection(),
            "the seller answers {answer}: {}",
            refused.status()
        );
    }
    let attempt = api(&buyer, &format!("/api/payments/{payment}")).await;
    assert_eq!(attempt["status"], "requires_action", "untouched: {attempt}");
}

/// The API's OpenAPI document and its page, from the binary (and, in the cluster, through the
/// gateway from the web service).
#[tokio::test]
async fn the_api_document_and_its_page_are_served() {
    let site = Site::start();
    let mut visitor = Visitor::new(&site);
    let document = visitor.get("/api/openapi.json").await;
    assert_eq!(document.status, StatusCode::OK);
    assert_eq!(document.headers[CONTENT_TYPE], "application/json");
    let document: serde_json::Value = serde_json::from_str(&document.body).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    for path in [
        "/api/users/signup",
        "/api/tickets/{id}",
        "/api/orders",
        "/api/payments",
    ] {
        assert!(document["paths"][path].is_object(), "{path} is documented");
    }
    let page = visitor.get("/api/docs").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));
    assert!(page.body.contains("<code>/api/orders/{id}</code>"));
    assert!(page.body.contains("id=\"schema-Ticket\""));
}
