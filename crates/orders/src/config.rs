//! Every setting of the orders service, with its flag, environment variable and default.

use std::num::NonZeroU32;

/// How long an order holds its ticket unless told otherwise: 15 minutes.
const DEFAULT_ORDER_LOCK_SECONDS: u64 = 15 * 60;

/// How many unpaid orders one buyer may hold at once unless told otherwise.
const DEFAULT_MAX_HELD_TICKETS: u32 = 10;

/// How long a buyer whose hold expired must wait to take the same ticket again: 5 minutes.
const DEFAULT_REHOLD_COOLDOWN_SECONDS: u64 = 5 * 60;

/// How long past `expiresAt` a payment started in time may hold the lock: 2 minutes.
const DEFAULT_PAYMENT_GRACE_SECONDS: u64 = 120;

/// How many orders one buyer may place per minute unless told otherwise.
const DEFAULT_ORDERS_PER_USER_PER_MINUTE: u32 = 30;

/// Settings of the orders service.
#[derive(Debug, Clone, clap::Args)]
pub struct OrdersConfig {
    /// How long an order holds its ticket while the buyer pays, in seconds.
    #[arg(long, env = "ORDER_LOCK_SECONDS", default_value_t = DEFAULT_ORDER_LOCK_SECONDS)]
    pub order_lock_seconds: u64,
    /// How many unpaid orders one buyer may hold at once; one more is refused.
    #[arg(long, env = "MAX_HELD_TICKETS", default_value_t = DEFAULT_MAX_HELD_TICKETS)]
    pub max_held_tickets: u32,
    /// After a buyer's hold on a ticket expired, how long (seconds) before that buyer may take
    /// the same ticket again; others may take it at once.
    #[arg(long, env = "REHOLD_COOLDOWN_SECONDS", default_value_t = DEFAULT_REHOLD_COOLDOWN_SECONDS)]
    pub rehold_cooldown_seconds: u64,
    /// How long past the end of the lock window a payment attempt that started before it may
    /// keep the ticket while it resolves (3-D Secure, a slow card network), in seconds.
    #[arg(long, env = "PAYMENT_GRACE_SECONDS", default_value_t = DEFAULT_PAYMENT_GRACE_SECONDS)]
    pub payment_grace_seconds: u64,
    /// How many orders one buyer may place per minute, shared by every replica (Redis in
    /// distributed mode); one more is refused with 429.
    #[arg(long, env = "ORDERS_PER_USER_PER_MINUTE", default_value_t = NonZeroU32::new(DEFAULT_ORDERS_PER_USER_PER_MINUTE).unwrap())]
    pub orders_per_user_per_minute: NonZeroU32,
}

impl Default for OrdersConfig {
    fn default() -> Self {
        Self {
            order_lock_seconds: DEFAULT_ORDER_LOCK_SECONDS,
            max_held_tickets: DEFAULT_MAX_HELD_TICKETS,
            rehold_cooldown_seconds: DEFAULT_REHOLD_COOLDOWN_SECONDS,
            payment_grace_seconds: DEFAULT_PAYMENT_GRACE_SECONDS,
            orders_per_user_per_minute: NonZeroU32::new(DEFAULT_ORDERS_PER_USER_PER_MINUTE)
                .unwrap(),
        }
    }
}

impl OrdersConfig {
    pub(crate) fn rules(&self) -> crate::store::HoldRules {
        crate::store::HoldRules {
            lock_window: std::time::Duration::from_secs(self.order_lock_seconds),
            max_held: i64::from(self.max_held_tickets),
            rehold_cooldown: std::time::Duration::from_secs(self.rehold_cooldown_seconds),
            payment_grace: std::time::Duration::from_secs(self.payment_grace_seconds),
        }
    }
}
