//! Every setting of the orders service, with its flag, environment variable and default.

/// How long an order holds its ticket unless told otherwise: 15 minutes.
const DEFAULT_ORDER_LOCK_SECONDS: u64 = 15 * 60;

/// Settings of the orders service.
#[derive(Debug, Clone, clap::Args)]
pub struct OrdersConfig {
    /// How long an order holds its ticket while the buyer pays, in seconds.
    #[arg(long, env = "ORDER_LOCK_SECONDS", default_value_t = DEFAULT_ORDER_LOCK_SECONDS)]
    pub order_lock_seconds: u64,
}

impl Default for OrdersConfig {
    fn default() -> Self {
        Self {
            order_lock_seconds: DEFAULT_ORDER_LOCK_SECONDS,
        }
    }
}
