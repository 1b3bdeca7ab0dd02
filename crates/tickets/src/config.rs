//! The settings of the tickets service. It has none yet; one would go here as a flag with its
//! environment variable (`#[arg(long, env = ...)]`), its default taken from the constant the
//! code uses, so `gittix --help` lists it with the others.

/// Settings of the tickets service.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TicketsConfig {}
