//! The web pages in headless Chromium, driven over WebDriver (chromedriver and fantoccini),
//! against the real `gittix` binary in embedded mode. Every page a test visits is saved as a
//! screenshot under `target/screenshots/<test>/`.

#[path = "../support/gittix.rs"]
mod gittix;
mod harness;

mod browse;
mod buying;
mod forms;
mod signed_out;
