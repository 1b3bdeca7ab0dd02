//! The web service's settings.

/// Settings of the web pages (`gittix serve web` and embedded mode).
#[derive(Debug, Clone, clap::Args)]
pub struct WebConfig {
    /// `serve web`: where the pages reach the APIs, normally the gateway (nginx or the
    /// ingress), e.g. http://gateway:8080. Embedded mode calls its own routes in-process.
    #[arg(long, env = "API_URL")]
    pub api_url: Option<String>,

    /// Stripe's publishable key (pk_...): the payment form then takes cards with Stripe
    /// Elements. Without it the form takes Stripe's test card numbers (4242 4242 4242 4242).
    #[arg(long, env = "STRIPE_PUBLISHABLE_KEY")]
    pub stripe_publishable_key: Option<String>,

    /// Where the pages load Stripe.js from, with a publishable key. Only a Stripe stand-in
    /// that serves its own Stripe.js (localstripe, in the tests) needs another.
    #[arg(long, env = "STRIPE_JS_URL", default_value = crate::security_headers::STRIPE_JS_URL)]
    pub stripe_js_url: String,

    /// The secret the forms' CSRF tokens are signed with, at least 32 bytes (`openssl rand -hex
    /// 32`); the same for every replica of web. Required by `serve web`; embedded mode keeps
    /// its own in the data directory.
    #[arg(long, env = "FORM_KEY", hide_env_values = true)]
    pub form_key: Option<String>,
}

impl WebConfig {
    /// The form secret for `serve web`: refuses a missing, short or well-known one.
    pub fn form_secret(&self) -> anyhow::Result<Vec<u8>> {
        let Some(secret) = self.form_key.as_deref() else {
            anyhow::bail!("FORM_KEY is not set; `serve web` signs its forms' CSRF tokens with it (at least 32 bytes, e.g. `openssl rand -hex 32`)");
        };
        gittix_shared::config::check_secret("FORM_KEY", secret)?;
        Ok(secret.as_bytes().to_vec())
    }

    /// The form secret for embedded mode: `FORM_KEY` when set, otherwise a random one kept in
    /// `data_dir/form.key`.
    pub fn embedded_form_secret(&self, data_dir: &std::path::Path) -> anyhow::Result<Vec<u8>> {
        match self.form_key {
            Some(_) => self.form_secret(),
            None => gittix_shared::config::load_or_create_secret(&data_dir.join("form.key")),
        }
    }
}
