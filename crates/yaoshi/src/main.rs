//! The `yaoshi` command: the server (`yaoshi server`), operator, key,
//! cryptographic and principal commands speaking the Vault/OpenBao-style HTTP
//! API, and the `yaoshi bench` measurements.
#![forbid(unsafe_code)]

mod bench;
mod bench_audit;
mod bench_load;
mod bench_nodes;
mod bench_openssl;
mod cli;
mod client;
mod commands;
mod error;
mod input;
mod output;

/// mimalloc instead of the system allocator (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use error::{CliError, EXIT_OK};
use std::process::ExitCode;
use std::time::Duration;

/// `yaoshi bench crypto`, `audit` and `nodes`.
fn bench_command(what: cli::BenchCommand, json: bool) -> Result<u8, CliError> {
    match what {
        cli::BenchCommand::Crypto { seconds, openssl } => {
            if !(0.05..=30.0).contains(&seconds) {
                return Err(CliError::Usage(
                    "--seconds must be between 0.05 and 30".into(),
                ));
            }
            let results = bench::run(Duration::from_secs_f64(seconds))
                .map_err(|e| CliError::Other(format!("benchmark failed: {e}")))?;
            let compared = if openssl {
                bench_openssl::compare(&results, seconds).map_err(CliError::Other)?
            } else {
                Vec::new()
            };
            if json {
                let mut value = bench::to_json(&results);
                if let Some(map) = value.as_object_mut() {
                    map.extend(bench_openssl::json_fields(&compared));
                }
                output::line(&value.to_string())?;
            } else {
                let mut text = bench::to_table(&results);
                if openssl {
                    text.push_str(&bench_openssl::to_table(&compared));
                }
                output::write_stdout(text.as_bytes())?;
            }
        }
        cli::BenchCommand::Audit {
            seconds,
            concurrency,
        } => {
            if !(0.1..=120.0).contains(&seconds) || !(1..=512).contains(&concurrency) {
                return Err(CliError::Usage(
                    "--seconds must be 0.1 to 120 and --concurrency 1 to 512".into(),
                ));
            }
            let runs = runtime()?
                .block_on(bench_audit::run(seconds, concurrency))
                .map_err(|e| CliError::Other(format!("benchmark failed: {e}")))?;
            if json {
                output::line(&bench_audit::to_json(&runs).to_string())?;
            } else {
                output::write_stdout(bench_audit::to_table(&runs, concurrency).as_bytes())?;
            }
        }
        cli::BenchCommand::Nodes {
            postgres,
            seconds,
            concurrency,
        } => {
            if !(0.1..=120.0).contains(&seconds) || !(3..=512).contains(&concurrency) {
                return Err(CliError::Usage(
                    "--seconds must be 0.1 to 120 and --concurrency 3 to 512".into(),
                ));
            }
            let runs = runtime()?
                .block_on(bench_nodes::run(&postgres, seconds, concurrency))
                .map_err(|e| CliError::Other(format!("benchmark failed: {e}")))?;
            if json {
                output::line(&bench_nodes::to_json(&runs, seconds, concurrency).to_string())?;
            } else {
                output::write_stdout(bench_nodes::to_table(&runs, concurrency).as_bytes())?;
            }
        }
    }
    Ok(EXIT_OK)
}

/// The multi-threaded runtime the in-process benchmarks run on.
fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Runtime::new()
        .map_err(|e| CliError::Other(format!("cannot start the runtime: {e}")))
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
