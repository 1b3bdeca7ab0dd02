//! A service as a test runs it: built by its crate's own `build`, on a platform of the test's
//! own, and served the way the binary serves it.

use std::sync::Arc;
use std::time::Duration;

use gittix_shared::config::Mode;
use gittix_shared::http::with_common_layers;
use gittix_shared::service::{self, Platform, Service};
use gittix_shared::session::Sessions;

use crate::bus::{quick_listener_settings, TestBus};
use crate::http::TestServer;
use crate::matrix::Topology;
use crate::sessions::test_sessions;

/// The body limit of test servers.
pub const TEST_BODY_LIMIT: usize = 64 * 1024;

/// What a test's services share: a fresh bus of the topology, the test sessions, and listener
/// settings with short retry delays. Dropping it shuts the services down.
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

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// Waits for the service's tasks once the platform's shutdown has fired.
    pub async fn stopped(mut self) {
        if let Some(service) = self.service.take() {
            service.stop(Duration::from_secs(10)).await;
        }
    }
}
