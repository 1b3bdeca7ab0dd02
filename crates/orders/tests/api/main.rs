//! The orders API over real HTTP with the real bus, in both topologies.

mod helpers;

mod cancel;
mod concurrency;
mod create;
mod delivery;
mod holds;
mod input;
mod payment_grace;
mod rate_limit;
mod read;
mod replica;
mod reservation;
