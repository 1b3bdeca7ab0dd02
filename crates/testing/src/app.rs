//! A service as a test runs it: built by its crate's own `build`, on a platform of the test's
//! own, and served the way the binary serves it.

use std::sync::Arc;
use std::time::Duration;

use gittix_shared::config::Mode;
use gittix_shared::http::with_common_layers;
use gittix_shared::ratelimit::RedisLimiter;
use gittix_shared::service::{self, Platform, Service};
use gittix_shared::session::Sessions;

use gittix_shared::db::Db;

use crate::bus::{quick_listener_settings, TestBus};
use crate::databases::{fresh_database, TestDatabase};
use crate::http::TestServer;
use crate::matrix::Topology;
use crate::sessions::test_sessions;

/// The body limit of test servers.
pub const TEST_BODY_LIMIT: usize = 64 * 1024;

/// What a test's services share: a fresh bus of the topology, the test sessions (following
/// `session:revoked` as every process does), listener settings with short retry delays, and
/// the rate limiter of the topology (in process, or in the test Redis).
/// Dropping it shuts the services down.
pub struct TestPlatform {
    pub platform: Platform,
    pub bus: TestBus,
}

impl TestPlatform {
    pub async fn new(topology: Topology) -> Self {
        Self::with_sessions(topology, test_sessions()).await
    }

    pub async fn with_sessions(topology: Topology, sessions: Sessions) -> Self {
        let bus = TestBus::new(topology.bus()).await;
        let mode = match topology {
            Topology::Embedded => Mode::Embedded,
            Topology::Distributed => Mode::Distributed,
        };
        let mut platform = Platform::new(bus.bus.clone(), sessions, mode);
        platform.listener = quick_listener_settings();
        if topology == Topology::Distributed {
            // The rate limits in Redis, as `serve` keeps them, under a prefix of this test's own.
            let prefix = format!("test:limits:{}:", uuid::Uuid::now_v7());
            let limiter = RedisLimiter::connect(&crate::redis_url(), prefix)
                .await
                .expect("the test Redis answers");
            platform.limiter = Arc::new(limiter);
        }
        // Stops with the platform's shutdown.
        drop(platform.follow_revocations());
        Self { platform, bus }
    }

    pub fn sessions(&self) -> &Sessions {
        &self.platform.sessions
    }
}

impl Drop for TestPlatform {
    fn drop(&mut self) {
        self.platform.shutdown.cancel();
    }
}

/// A built service served on a free loopback port, with the health routes and the layers of
/// every GitTix server.
pub struct TestService {
    pub server: TestServer,
    service: Option<Service>,
}

impl TestService {
    pub async fn serve(mut service: Service, platform: &Platform) -> Self {
        let routes = service::routes_of(
            std::slice::from_mut(&mut service),
            Some(Arc::clone(&platform.bus)),
        );
        let server = TestServer::spawn(with_common_layers(routes, TEST_BODY_LIMIT)).await;
        Self {
            server,
            service: Some(service),
        }
    }

    /// Waits for the service's tasks once the platform's shutdown has fired.
    pub async fn stopped(mut self) {
        if let Some(service) = self.service.take() {
            service.stop(Duration::from_secs(10)).await;
        }
    }
}

/// Requests go to the server the service is served on.
impl std::ops::Deref for TestService {
    type Target = TestServer;

    fn deref(&self) -> &TestServer {
        &self.server
    }
}

/// What most service tests start from: the service built by its crate's `build` on a fresh
/// database of the topology's backend and a platform of the test's own, served on a free port.
/// Dropping it shuts the service down, then drops its database.
pub struct Spawned {
    pub service: TestService,
    pub platform: TestPlatform,
    pub database: TestDatabase,
}

impl Spawned {
    pub async fn new(
        topology: Topology,
        build: impl AsyncFnOnce(Db, &Platform) -> anyhow::Result<Service>,
    ) -> Self {
        let database = fresh_database(topology.backend()).await;
        let platform = TestPlatform::new(topology).await;
        let built = build(database.db.clone(), &platform.platform)
            .await
            .expect("building the service");
        let service = TestService::serve(built, &platform.platform).await;
        Self {
            service,
            platform,
            database,
        }
    }
}
