//! The bus conformance suite: every test runs against the embedded SQLite log and against NATS
//! JetStream (`name::embedded`, `name::jetstream`). An adapter that passes is interchangeable.

mod helpers;

mod delivery;
mod jetstream_restart;
mod listener;
mod relay;
