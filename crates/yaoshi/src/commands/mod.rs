//! What each command does: building requests, printing answers, choosing
//! exit codes.

pub mod approval;
pub mod audit;
pub mod compliance;
pub mod crypto;
pub mod key;
pub mod operator;
pub mod principal;
pub mod profile;
pub mod server;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::client::{self, Client};
use crate::error::{CliError, EXIT_OK};
use crate::output;
use serde_json::Value;

/// What an HTTP command needs: the client and the output mode.
pub struct Ctx {
    /// The HTTP client.
    pub client: Client,
    /// Print JSON instead of text.
    pub json: bool,
}

impl Ctx {
    /// Builds the client from the global options and the environment.
    pub fn new(global: &GlobalArgs) -> Result<Self, CliError> {
        let lookup = |name: &str| std::env::var(name).ok();
        let addr = client::resolve_addr(global.addr.as_deref(), &lookup);
        let token = client::resolve_token(global.token.as_deref(), &lookup);
        let client = Client::new(&addr, token, global.ca_cert.as_deref())?;
        Ok(Self {
            client,
            json: global.json,
        })
    }

    /// In JSON mode prints `data` and returns true; text mode returns false.
    pub fn json_done(&self, data: &Value) -> Result<bool, CliError> {
        if self.json {
            output::json(data)?;
        }
        Ok(self.json)
    }
}

/// Runs a parsed command line and returns the exit code.
pub fn run(cli: Cli) -> Result<u8, CliError> {
    let global = cli.global;
    match cli.command {
        Command::Server(args) => server::run(args),
        Command::Bench { what } => crate::bench_command(what, global.json),
        Command::Operator { command } => operator::run(&Ctx::new(&global)?, command),
        Command::Key { command } => key::run(&Ctx::new(&global)?, command),
        Command::Principal { command } => principal::run(&Ctx::new(&global)?, command),
        Command::Audit { command } => audit::run(&global, command),
        Command::Approval { command } => approval::run(&Ctx::new(&global)?, command),
        Command::Profile { command } => profile::run(&Ctx::new(&global)?, command),
        Command::Compliance { command } => compliance::run(&Ctx::new(&global)?, command),
        Command::Encrypt(args) => crypto::encrypt(&Ctx::new(&global)?, args),
        Command::Decrypt(args) => crypto::decrypt(&Ctx::new(&global)?, args),
        Command::Sign(args) => crypto::sign(&Ctx::new(&global)?, args),
        Command::Verify(args) => crypto::verify(&Ctx::new(&global)?, args),
        Command::Datakey(args) => crypto::datakey(&Ctx::new(&global)?, args),
        Command::Hmac(args) => crypto::hmac(&Ctx::new(&global)?, args),
    }
}

/// A string field of an answer, or an error naming the missing field.
pub fn required_str<'a>(data: &'a Value, field: &str) -> Result<&'a str, CliError> {
    data.get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| CliError::Other(format!("the server's answer lacks `{field}`")))
}

/// Prints a success line in text mode or the data in JSON mode.
pub fn success(ctx: &Ctx, data: &Value, message: &str) -> Result<u8, CliError> {
    if !ctx.json_done(data)? {
        output::line(message)?;
    }
    Ok(EXIT_OK)
}
