//! The adapter matrix: each test defined once and run on every adapter (`backend_tests!`,
//! `bus_tests!`) or in both topologies (`topology_tests!`).

use gittix_shared::db::Backend;

use crate::bus::BusKind;

/// Defines each test once per backend: `name::sqlite` and `name::postgres`.
///
/// ```ignore
/// backend_tests! {
///     async fn signup_succeeds(backend) { let app = TestApp::spawn(backend).await; ... }
/// }
/// ```
#[macro_export]
macro_rules! backend_tests {
    ($( $(#[$meta:meta])* async fn $name:ident($backend:ident) $body:block )*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($backend: $crate::Backend) $body

                #[::tokio::test]
                async fn sqlite() {
                    run($crate::Backend::Sqlite).await
                }

                #[::tokio::test]
                async fn postgres() {
                    run($crate::Backend::Postgres).await
                }
            }
        )*
    };
}

/// Defines each test once per bus adapter: `name::embedded` and `name::jetstream`.
#[macro_export]
macro_rules! bus_tests {
    ($( $(#[$meta:meta])* async fn $name:ident($kind:ident) $body:block )*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($kind: $crate::BusKind) $body

                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    run($crate::BusKind::Embedded).await
                }

                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn jetstream() {
                    run($crate::BusKind::JetStream).await
                }
            }
        )*
    };
}

/// The two ways GitTix runs, as tests exercise them: SQLite with the embedded bus, and
/// PostgreSQL with JetStream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    Embedded,
    Distributed,
}

impl Topology {
    pub fn backend(self) -> Backend {
        match self {
            Self::Embedded => Backend::Sqlite,
            Self::Distributed => Backend::Postgres,
        }
    }

    pub fn bus(self) -> BusKind {
        match self {
            Self::Embedded => BusKind::Embedded,
            Self::Distributed => BusKind::JetStream,
        }
    }
}

/// Defines each test once per topology: `name::embedded` and `name::distributed`.
#[macro_export]
macro_rules! topology_tests {
    ($( $(#[$meta:meta])* async fn $name:ident($topology:ident) $body:block )*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($topology: $crate::Topology) $body

                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    run($crate::Topology::Embedded).await
                }

                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn distributed() {
                    run($crate::Topology::Distributed).await
                }
            }
        )*
    };
}
