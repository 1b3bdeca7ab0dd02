//! The scenarios of the load suite, each a function that drives the API and returns what it
//! measured.

pub mod buying;
pub mod events;
pub mod expiry;
pub mod flash_sale;
pub mod http_reads;
