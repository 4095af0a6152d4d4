//! The `yaoshi` command: server, operator, key, audit and benchmark commands.
//! Today it offers `yaoshi bench crypto`; the server joins when it lands.
#![forbid(unsafe_code)]

mod bench;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "yaoshi", version, about = "A self-hosted KMS with SM2/SM3/SM4")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Benchmarks on this machine.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Primitive throughput and operation rates, single core (like `openssl speed`).
    Crypto {
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Seconds to spend measuring each primitive (0.05 to 30).
        #[arg(long, default_value_t = 1.0)]
        seconds: f64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Bench {
            what: BenchCommand::Crypto { json, seconds },
        } => {
            if !(0.05..=30.0).contains(&seconds) {
                eprintln!("error: --seconds must be between 0.05 and 30");
                return ExitCode::from(2);
            }
            match bench::run(Duration::from_secs_f64(seconds)) {
                Ok(results) => {
                    if json {
                        println!("{}", bench::to_json(&results));
                    } else {
                        print!("{}", bench::to_table(&results));
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: benchmark failed: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
