//! `gittix`: every GitTix service in one process (embedded mode, the default), or one service
//! per process (`gittix serve <service>`, distributed mode).

mod allocator;
mod api_document;
mod cli;
mod distributed;
mod embedded;
mod server;

use clap::Parser;

use crate::cli::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    allocator::return_large_allocations();
    let cli = Cli::parse();
    if let Some(Command::SessionKeys) = cli.command {
        let keys = gittix_shared::session::SessionKeys::generate();
        print!("{}", keys.private_pem().expect("a generated pair signs"));
        print!("{}", keys.public_pem());
        return Ok(());
    }
    gittix_shared::telemetry::init(cli.log.log_format);
    let result = match cli.command.clone().unwrap_or(Command::Run) {
        Command::Run => embedded::run(&cli).await,
        Command::Serve { service } => distributed::run(&cli, service).await,
        Command::SessionKeys => unreachable!("answered above"),
    };
    if let Err(error) = &result {
        tracing::error!(error = format!("{error:#}"), "gittix stopped");
    }
    result
}
