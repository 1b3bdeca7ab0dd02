//! A GitTix to browse and a browser to browse it with.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

pub use crate::site::{unique_email, Site};

/// Where chromedriver is; the test command installs Debian's `chromium-driver`.
const CHROMEDRIVER_VAR: &str = "GITTIX_TEST_CHROMEDRIVER";
/// Where Chromium is; Debian's `chromium` by default.
const CHROMIUM_VAR: &str = "GITTIX_TEST_CHROMIUM";
/// Where axe-core's `axe.min.js` is; the test command installs npm's axe-core.
const AXE_VAR: &str = "GITTIX_TEST_AXE_JS";
/// How long a page may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(15);

/// One chromedriver, shared by the browsers of a test.
pub struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    pub async fn start() -> Self {
        let binary = std::env::var(CHROMEDRIVER_VAR).unwrap_or_else(|_| "chromedriver".into());
        let port = free_port();
        let child = Command::new(&binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {binary} ({e}); the test command installs chromium-driver, or set {CHROMEDRIVER_VAR}")
            });
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < PATIENCE, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child, url }
    }

    /// A new browser window with its own cookies, `width` × `height` pixels, saving
    /// screenshots under `target/screenshots/<test>/`.
    pub async fn browser(
        &self,
        site: &Site,
        test: &str,
        who: &str,
        width: u32,
        height: u32,
    ) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let chromium = std::env::var(CHROMIUM_VAR).unwrap_or_else(|_| "/usr/bin/chromium".into());
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            // Chromium's own calls home are refused on a closed network, and slow it down.
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({
            "goog:chromeOptions": {"binary": chromium, "args": args},
        });
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities.as_object().unwrap().clone())
            .connect(&self.url)
            .await
            .expect("opening a Chromium session");
        let shots = screenshot_dir().join(site.kind()).join(test);
        std::fs::create_dir_all(&shots).unwrap();
        Browser {
            client,
            who: who.to_owned(),
            shots,
            taken: AtomicUsize::new(0),
            _profile: profile,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// axe-core's source, read once per test process.
fn axe_source() -> String {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SOURCE
        .get_or_init(|| {
            let path = std::env::var(AXE_VAR).unwrap_or_else(|_| {
                panic!("{AXE_VAR} is not set: the test command installs npm's axe-core and sets it")
            });
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
        })
        .clone()
}

fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots")
}

/// One visitor's browser window.
pub struct Browser {
    pub client: Client,
    who: String,
    shots: PathBuf,
    /// Numbers the screenshots in the order they were taken.
    taken: AtomicUsize,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Opens `url` and saves a screenshot of the page as `name`.
    /// Opens `url`, saves a screenshot of the page as `name` and checks its accessibility.
    pub async fn visit(&self, url: &str, name: &str) {
        self.client.goto(url).await.unwrap();
        self.screenshot(name).await;
        self.check_accessibility(name).await;
    }

    /// Runs axe-core's WCAG 2 A and AA rules on the page and fails on any violation: labels,
    /// landmarks, contrast, names of links and buttons, valid ARIA.
    pub async fn check_accessibility(&self, name: &str) {
        let axe = axe_source();
        self.client.execute(&axe, Vec::new()).await.unwrap();
        let violations = self
            .client
            .execute_async(
                // localstripe's stand-in for Stripe's 3-D Secure window (a box it adds to
                // the page, where Stripe shows its own frame) is not GitTix's to check.
                "const done = arguments[arguments.length - 1];
                 axe.run({exclude: [['body > div:not([class])']]}, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'best-practice']}})
                   .then(result => done(result.violations.map(v =>
                     `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)))
                   .catch(error => done([`axe failed: ${error}`]));",
                Vec::new(),
            )
            .await
            .unwrap();
        let violations: Vec<String> = serde_json::from_value(violations).unwrap();
        assert!(
            violations.is_empty(),
            "accessibility of {} ({name}):\n{}",
            self.path().await,
            violations.join("\n")
        );
    }

    /// Saves what the window shows as `<who>-<n>-<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let n = self.taken.fetch_add(1, Ordering::Relaxed) + 1;
        let file = self.shots.join(format!("{}-{n:02}-{name}.png", self.who));
        std::fs::write(file, png).unwrap();
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks `css` (a submit button, say), waits for the next page and screenshots it.
    pub async fn submit(&self, css: &str, name: &str) {
        self.click_for_next_page(Locator::Css(css), name).await;
    }

    /// Clicks what `locator` finds (once it is there), waits for the next page and screenshots it.
    pub async fn click_for_next_page(&self, locator: Locator<'_>, name: &str) {
        let button = self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(locator)
            .await
            .unwrap();
        let before = self.client.find(Locator::Css("html")).await.unwrap();
        button.click().await.unwrap();
        // The old document goes stale once the next page has loaded.
        let started = Instant::now();
        while before.text().await.is_ok() {
            assert!(
                started.elapsed() < PATIENCE,
                "no new page after clicking {locator:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.client
            .wait()
            .for_element(Locator::Css("body"))
            .await
            .unwrap();
        self.screenshot(name).await;
        self.check_accessibility(name).await;
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap(),
            Err(error) => panic!("no {css} on {}: {error}", self.path().await),
        }
    }

    /// The text of the whole page.
    pub async fn page_text(&self) -> String {
        self.text("body").await
    }

    /// Waits until the element `css` shows `expected`.
    pub async fn wait_for_text(&self, css: &str, expected: &str) {
        self.wait_for_text_within(css, expected, PATIENCE).await;
    }

    pub async fn wait_for_text_within(&self, css: &str, expected: &str, patience: Duration) {
        let started = Instant::now();
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if element.text().await.is_ok_and(|t| t.contains(expected)) {
                    return;
                }
            }
            assert!(
                started.elapsed() < patience,
                "{css} never showed {expected:?} on {}",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Whether an element matching `css` is on the page.
    pub async fn has(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// Whether an element matching `css` is on the page and visible.
    pub async fn is_shown(&self, css: &str) -> bool {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element.is_displayed().await.unwrap_or(false),
            Err(_) => false,
        }
    }

    /// Path and query of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub async fn close(self) {
        self.client.close().await.unwrap();
    }

    // Journeys every test repeats.

    /// Signs up with a new email made from `name`, and returns it.
    pub async fn sign_up(&self, site: &Site, name: &str) -> String {
        let email = unique_email(name);
        self.visit(&site.url("/auth/signup"), "sign-up").await;
        self.fill("#email", &email).await;
        self.fill("#password", "secret-pass").await;
        self.submit("main button[type=submit]", "signed-up").await;
        assert_eq!(self.path().await, "/", "sign-up ends on the home page");
        assert!(self.text("header").await.contains("Sign out"));
        email
    }

    /// Types a test card number into the order page's payment form: its card number field in
    /// simulator mode, or, with Stripe's keys (the cluster), the card field of the Stripe.js
    /// the page loaded (localstripe's, which takes 16 digits, an expiry and a CVC).
    pub async fn enter_card(&self, number: &str) {
        if self.takes_test_card_numbers().await {
            return self.fill("#card", number).await;
        }
        let digits: String = number.chars().filter(char::is_ascii_digit).collect();
        for (field, value) in [
            ("number", digits.as_str()),
            ("exp_month", "12"),
            ("exp_year", "34"),
            ("cvc", "123"),
            ("postal_code", "12345"),
        ] {
            self.fill(&format!("#card-element input[placeholder={field}]"), value)
                .await;
        }
    }

    /// The card number as the payment form holds it now.
    pub async fn card_number_entered(&self) -> String {
        let field = if self.takes_test_card_numbers().await {
            "#card"
        } else {
            "#card-element input[placeholder=number]"
        };
        let field = self.client.find(Locator::Css(field)).await.unwrap();
        field.prop("value").await.unwrap().unwrap_or_default()
    }

    /// Whether the order page's form takes Stripe's test card numbers (simulator mode) rather
    /// than Stripe Elements.
    pub async fn takes_test_card_numbers(&self) -> bool {
        self.has("#card").await
    }

    /// Answers the bank's 3-D Secure check on the challenge page: GitTix's test page in
    /// simulator mode, or the dialog of the Stripe.js the page loaded (localstripe's).
    pub async fn answer_challenge(&self, complete: bool, name: &str) {
        assert!(
            self.path().await.ends_with("/challenge"),
            "not a challenge: {}",
            self.path().await
        );
        if self.has("#challenge-complete").await {
            let button = if complete {
                "#challenge-complete"
            } else {
                "#challenge-fail"
            };
            return self.submit(button, name).await;
        }
        let label = if complete {
            "Complete authentication"
        } else {
            "Fail authentication"
        };
        let button = format!("//button[text()='{label}']");
        self.click_for_next_page(Locator::XPath(&button), name)
            .await;
    }

    /// Uploads `file` (a PDF) as the ticket's file from the seller's listings, with the page's
    /// own form (no script needed).
    pub async fn upload_from_listings(&self, site: &Site, ticket_id: &str, file: &[u8]) {
        let path = std::env::temp_dir().join(format!("gittix-ticket-{ticket_id}.pdf"));
        std::fs::write(&path, file).unwrap();
        self.visit(&site.url("/listings"), "listings").await;
        let input = self
            .client
            .find(Locator::Css(&format!("#file-{ticket_id}")))
            .await
            .unwrap();
        input.send_keys(path.to_str().unwrap()).await.unwrap();
        self.submit(
            &format!("#ticket-{ticket_id} .upload-form button"),
            "file-uploaded",
        )
        .await;
        std::fs::remove_file(path).ok();
        assert!(self
            .text(&format!("#ticket-{ticket_id}"))
            .await
            .contains("Your file"));
    }

    /// Sells a ticket and returns its page's path.
    pub async fn sell(&self, site: &Site, title: &str, price: &str) -> String {
        self.visit(&site.url("/tickets/new"), "sell").await;
        self.fill("#title", title).await;
        self.fill("#price", price).await;
        self.submit("#ticket-form button[type=submit]", "sold-ticket")
            .await;
        assert_eq!(self.text("h1").await, title);
        self.path().await
    }
}
