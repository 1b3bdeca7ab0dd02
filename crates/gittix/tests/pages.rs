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
    assert!(page.contains("No Script Live") && page.contains("$15.00"));
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
