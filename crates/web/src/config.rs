//! The web service's settings.

/// Settings of the web pages (`gittix serve web` and embedded mode).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WebConfig {
    /// `serve web`: where the pages reach the APIs, normally the gateway (nginx or the
    /// ingress), e.g. http://gateway:8080. Embedded mode calls its own routes in-process.
    #[arg(long, env = "API_URL")]
    pub api_url: Option<String>,

    /// Stripe's publishable key (pk_...): the payment form then takes cards with Stripe
    /// Elements. Without it the form takes Stripe's test card numbers (4242 4242 4242 4242).
    #[arg(long, env = "STRIPE_PUBLISHABLE_KEY")]
    pub stripe_publishable_key: Option<String>,
}
