//! `gittix-dev`: starts the servers GitTix's scripts need (PostgreSQL, NATS with JetStream, Redis)
//! on 127.0.0.1 in private directories, with the code the tests' private servers use
//! (`gittix_testing::servers::launch`). `scripts/lib/servers.sh` calls it; it runs in the
//! foreground, and `nats` and `redis` become the server (exec), so the pid the script records is
//! the server's. PostgreSQL is driven with `pg_ctl`, which waits for it to be ready and stops it
//! as a crash would (`--mode immediate`), as the fault suite does.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use gittix_testing::servers::launch::{self, Postgres, Result, Server, StopMode};

#[derive(Parser)]
#[command(
    name = "gittix-dev",
    about = "Starts the servers GitTix's scripts and tests need, on 127.0.0.1 in private directories"
)]
enum Cli {
    /// Prints a TCP port on 127.0.0.1 that nothing listens on, below the ephemeral range.
    FreePort,
    /// Waits up to 10 s until something listens on 127.0.0.1:PORT; otherwise prints LOG and fails.
    WaitPort {
        port: u16,
        #[arg(long)]
        log: Option<PathBuf>,
    },
    /// Prints where SERVER is installed (PostgreSQL: its bin directory); fails if it is not.
    Find {
        #[arg(value_enum)]
        server: Server,
    },
    /// PostgreSQL in a private directory, driven with pg_ctl.
    #[command(subcommand)]
    Postgres(PostgresCommand),
    /// Runs nats-server with JetStream in the foreground (this process becomes the server).
    Nats(Foreground),
    /// Runs redis-server with an append-only file in the foreground (this process becomes it).
    Redis(Foreground),
}

#[derive(Subcommand)]
enum PostgresCommand {
    /// Prints the user the server runs as (`postgres` when run as root, created if missing), or
    /// nothing.
    User,
    /// Creates DIR and an empty cluster in DIR/data.
    Init(Cluster),
    /// Starts the server and waits until it accepts connections.
    Start {
        #[command(flatten)]
        cluster: Cluster,
        #[arg(long)]
        port: u16,
        /// The server's log.
        #[arg(long)]
        log: PathBuf,
        /// Keeps PostgreSQL's durability settings (fsync on); without it they are off.
        #[arg(long)]
        durable: bool,
    },
    /// Stops the server and waits until it is gone.
    Stop {
        #[command(flatten)]
        cluster: Cluster,
        #[arg(long, value_enum, default_value = "immediate")]
        mode: StopMode,
    },
    /// Creates database NAME on the server listening on PORT.
    Createdb {
        #[arg(long)]
        bin: Option<PathBuf>,
        #[arg(long)]
        port: u16,
        name: String,
    },
}

#[derive(Args)]
struct Cluster {
    /// PostgreSQL's bin directory (found when not given).
    #[arg(long)]
    bin: Option<PathBuf>,
    /// The private directory.
    #[arg(long)]
    dir: PathBuf,
}

#[derive(Args)]
struct Foreground {
    /// The directory of the server's files (kept across restarts).
    #[arg(long)]
    dir: PathBuf,
    #[arg(long)]
    port: u16,
    /// The server's program (found when not given).
    #[arg(long)]
    bin: Option<PathBuf>,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gittix-dev: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli {
        Cli::FreePort => println!("{}", launch::free_port()),
        Cli::WaitPort { port, log } => {
            if !launch::wait_for_port(port, Duration::from_secs(10)) {
                if let Some(log) = log {
                    eprint!("{}", std::fs::read_to_string(&log).unwrap_or_default());
                }
                return Err(format!("nothing listens on {}:{port}", launch::HOST));
            }
        }
        Cli::Find { server } => println!("{}", server.installed()?.display()),
        Cli::Postgres(command) => postgres(command)?,
        Cli::Nats(server) => {
            let program = program(Server::Nats, server.bin)?;
            let error = launch::nats_command(&program, &server.dir, server.port).exec();
            return Err(format!("running {}: {error}", program.display()));
        }
        Cli::Redis(server) => {
            let program = program(Server::Redis, server.bin)?;
            let error = launch::redis_command(&program, &server.dir, server.port)?.exec();
            return Err(format!("running {}: {error}", program.display()));
        }
    }
    Ok(())
}

fn program(server: Server, given: Option<PathBuf>) -> Result<PathBuf> {
    given.map_or_else(|| server.installed(), Ok)
}

fn postgres(command: PostgresCommand) -> Result<()> {
    let cluster =
        |cluster: Cluster| Postgres::new(program(Server::Postgres, cluster.bin)?, cluster.dir);
    match command {
        PostgresCommand::User => println!("{}", launch::postgres_user()?.unwrap_or_default()),
        PostgresCommand::Init(dir) => cluster(dir)?.init()?,
        PostgresCommand::Start {
            cluster: dir,
            port,
            log,
            durable,
        } => cluster(dir)?.start(port, &log, durable)?,
        PostgresCommand::Stop { cluster: dir, mode } => cluster(dir)?.stop(mode)?,
        PostgresCommand::Createdb { bin, port, name } => {
            let bin = program(Server::Postgres, bin)?;
            // The directory only matters to the server's own commands.
            Postgres::new(bin, std::env::temp_dir())?.create_database(port, &name)?
        }
    }
    Ok(())
}
