//! The one shape of a GitTix service. Each service crate has a `build` function that takes what
//! the process gives every service ([`Platform`]) and returns a [`Service`]: its documented
//! routes, its background tasks, and what `/readyz` must check. Embedded mode, `gittix serve` and
//! the tests all call that same function, so a test runs the wiring production runs.
//!
//! Background tasks (listeners, the outbox relay, timer loops) watch [`Platform::shutdown`] and
//! stop between two pieces of work when it fires; [`Service::stop`] waits for them, so a clean
//! shutdown leaves no message half handled and no event in the outbox.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use utoipa_axum::router::OpenApiRouter;

use crate::bus::Bus;
use crate::config::Mode;
use crate::db::Db;
use crate::http::{Dependencies, Probe, TrustProxy};
use crate::listener::{Listener, ListenerSettings};
use crate::relay::{self, RelaySettings};
use crate::session::Sessions;

/// What the process gives every service it runs.
#[derive(Clone)]
pub struct Platform {
    pub bus: Arc<dyn Bus>,
    pub sessions: Sessions,
    /// How the process runs: a service may rely on being the only writer of its database in
    /// embedded mode.
    pub mode: Mode,
    /// Whether to read the client's address from `X-Forwarded-For` (behind a gateway).
    pub trust_proxy: TrustProxy,
    pub listener: ListenerSettings,
    pub relay: RelaySettings,
    /// Where rate limits are counted: this process's memory, or Redis shared by every replica.
    pub limiter: Arc<dyn crate::ratelimit::Limiter>,
    /// How long the bus keeps messages, and so how long the tables that remember them keep
    /// their rows.
    pub retentions: crate::pruning::Retentions,
    /// The platform's fees: the same for every service (tickets shows totals, orders fixes them,
    /// payments charges them and pays the rest).
    pub fees: crate::fees::Fees,
    /// Where people reach GitTix (`PUBLIC_URL`), without a trailing slash: the start of the
    /// links a service hands out.
    pub public_url: String,
    /// Fires once, when the process shuts down.
    pub shutdown: CancellationToken,
}

impl Platform {
    pub fn new(bus: Arc<dyn Bus>, sessions: Sessions, mode: Mode) -> Self {
        Self {
            bus,
            sessions,
            mode,
            trust_proxy: TrustProxy(false),
            listener: ListenerSettings::default(),
            relay: RelaySettings::default(),
            limiter: Arc::new(crate::ratelimit::LocalLimiter::default()),
            retentions: crate::pruning::Retentions::DEFAULT,
            fees: crate::fees::Fees::default(),
            public_url: "http://127.0.0.1:3000".to_owned(),
            shutdown: CancellationToken::new(),
        }
    }

    /// The consumer group `group` on the platform's bus, with its listener settings; add its
    /// handlers with [`Listener::on`], then [`start`](Self::start) it.
    pub fn consumer_group(&self, group: &str) -> Listener {
        Listener::new(self.bus.clone(), group, self.listener.clone())
    }

    /// Follows `session:revoked` into [`Platform::sessions`] until shutdown, in a consumer group
    /// of this process's own (one per process: every replica must see every revocation).
    pub fn follow_revocations(&self) -> RevocationFollower {
        let read = Arc::new(crate::session::revocation::RevocationsRead::default());
        let task = crate::session::revocation::follow(
            self.sessions.clone(),
            self.bus.clone(),
            self.shutdown.clone(),
            read.clone(),
        );
        RevocationFollower { task, read }
    }

    /// These settings with `sessions` in place of the platform's (auth's signing sessions in a
    /// process whose other services only verify).
    pub fn with_sessions(&self, sessions: Sessions) -> Self {
        Self {
            sessions,
            ..self.clone()
        }
    }

    /// Runs `listener`'s consumers until the platform's shutdown.
    pub async fn start(&self, listener: Listener) -> anyhow::Result<Vec<JoinHandle<()>>> {
        listener.start(self.shutdown.clone()).await
    }
}

/// A process's reader of `session:revoked`: its task, and whether it has read what was
/// published before it started (a probe for `/readyz`).
pub struct RevocationFollower {
    pub task: JoinHandle<()>,
    pub read: Arc<crate::session::revocation::RevocationsRead>,
}

/// A built service, running its tasks; serve its routes and [`stop`](Self::stop) it at the end.
pub struct Service {
    pub name: &'static str,
    /// Its routes with their OpenAPI entries, declared together.
    pub routes: OpenApiRouter,
    /// What `/readyz` checks for it (the bus is added by the process, once).
    pub dependencies: Dependencies,
    tasks: Vec<JoinHandle<()>>,
}

impl Service {
    pub fn new(name: &'static str, routes: OpenApiRouter) -> Self {
        Self {
            name,
            routes,
            dependencies: Dependencies::default(),
            tasks: Vec::new(),
        }
    }

    /// The service's own database: `/readyz` checks it and its outbox is relayed to the bus
    /// until shutdown, when the relay publishes what is left.
    pub fn with_database(mut self, db: &Db, platform: &Platform) -> Self {
        self.dependencies.databases.push(db.clone());
        self.tasks.push(relay::spawn(
            db.clone(),
            platform.bus.clone(),
            platform.relay.clone(),
            platform.shutdown.clone(),
        ));
        self
    }

    /// Prunes `db` by `rules`, under the platform's retentions, until its shutdown
    /// (`crate::pruning`).
    pub fn with_pruning(
        mut self,
        db: &Db,
        rules: Vec<crate::pruning::Retention>,
        platform: &Platform,
    ) -> Self {
        self.tasks.push(crate::pruning::spawn(
            db.clone(),
            rules,
            platform.retentions,
            platform.shutdown.clone(),
        ));
        self
    }

    /// Background work that ends when the platform's shutdown fires.
    pub fn with_tasks(mut self, tasks: impl IntoIterator<Item = JoinHandle<()>>) -> Self {
        self.tasks.extend(tasks);
        self
    }

    /// Something else the service cannot work without, checked by `/readyz` under `name`.
    pub fn with_probe(mut self, name: &'static str, probe: Arc<dyn Probe>) -> Self {
        self.dependencies.others.push((name, probe));
        self
    }

    /// Waits for the tasks to finish after the shutdown fired, at most `deadline`; the ones
    /// still running then are abandoned (what they held is delivered again at the next start).
    pub async fn stop(self, deadline: Duration) {
        let name = self.name;
        let all = futures_util::future::join_all(self.tasks);
        if tokio::time::timeout(deadline, all).await.is_err() {
            tracing::warn!(service = name, "background tasks did not stop in time");
        }
    }
}

/// The routes of `services` and the health routes, as one process serves them: `/readyz` checks
/// every service's dependencies and the bus. The routes are taken out of the services, which keep
/// their tasks. The caller adds the layers ([`crate::http::with_common_layers`]).
pub fn routes_of(services: &mut [Service], bus: Option<Arc<dyn Bus>>) -> axum::Router {
    let mut dependencies = Dependencies {
        bus,
        ..Dependencies::default()
    };
    let mut router = axum::Router::new();
    for service in services {
        let routes = std::mem::replace(&mut service.routes, OpenApiRouter::new());
        router = router.merge(axum::Router::from(routes));
        dependencies
            .databases
            .extend(service.dependencies.databases.iter().cloned());
        dependencies
            .others
            .extend(service.dependencies.others.iter().cloned());
    }
    router.merge(crate::http::health_routes(dependencies))
}
