//! The tickets API over real HTTP with the real bus, in both topologies.

mod helpers;

mod create;
mod delivery;
mod events;
mod input;
mod listing;
mod mine;
mod order_events;
mod seats;
mod update;
mod withdraw;
