//! The web pages in headless Chromium, driven over WebDriver (chromedriver and fantoccini),
//! against the real `gittix` binary in embedded mode, or the distributed cluster through nginx
//! inside `scripts/cluster`. Every page a test visits is saved as a screenshot under
//! `target/screenshots/<embedded|cluster>/<test>/`.

#[path = "../support/gittix.rs"]
mod gittix;
mod harness;
#[path = "../support/site.rs"]
mod site;

mod browse;
mod buying;
mod delivery;
mod email;
mod forms;
mod payouts;
mod signed_out;
mod three_d_secure;
