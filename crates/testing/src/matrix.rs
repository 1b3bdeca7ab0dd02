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
    ($($tests:tt)*) => {
        $crate::adapter_matrix! {
            (::tokio::test; Backend: sqlite => Sqlite, postgres => Postgres)
            $($tests)*
        }
    };
}

/// Defines each test once per bus adapter: `name::embedded` and `name::jetstream`.
#[macro_export]
macro_rules! bus_tests {
    ($($tests:tt)*) => {
        $crate::adapter_matrix! {
            (::tokio::test(flavor = "multi_thread", worker_threads = 2);
             BusKind: embedded => Embedded, jetstream => JetStream)
            $($tests)*
        }
    };
}

/// Defines each test once per topology: `name::embedded` and `name::distributed`.
#[macro_export]
macro_rules! topology_tests {
    ($($tests:tt)*) => {
        $crate::adapter_matrix! {
            (::tokio::test(flavor = "multi_thread", worker_threads = 2);
             Topology: embedded => Embedded, distributed => Distributed)
            $($tests)*
        }
    };
}

/// The three macros above: each `async fn name(arg) { body }` becomes a module `name` whose
/// `run(arg)` holds the body, with one test per case calling it with that case's variant. One
/// test at a time, so that the cases repeat inside each test's module.
#[doc(hidden)]
#[macro_export]
macro_rules! adapter_matrix {
    ($cases:tt) => {};
    (
        ($test:meta; $kind:ident: $($case:ident => $variant:ident),+)
        $(#[$meta:meta])* async fn $name:ident($arg:ident) $body:block
        $($rest:tt)*
    ) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($arg: $crate::$kind) $body

            $(
                #[$test]
                async fn $case() {
                    run($crate::$kind::$variant).await
                }
            )+
        }

        $crate::adapter_matrix! { ($test; $kind: $($case => $variant),+) $($rest)* }
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
