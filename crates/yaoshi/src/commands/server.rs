//! `yaoshi server`: turns flags or a TOML file into `ServerSettings` and runs
//! the server on a multi-thread tokio runtime.

use crate::cli::ServerArgs;
use crate::error::{CliError, EXIT_OK};
use yaoshi_server::{DevSettings, LogFormat, ServerSettings, TlsSettings};

/// Settings from the command line (`--config` reads the file instead).
pub fn settings(args: ServerArgs) -> Result<ServerSettings, CliError> {
    if let Some(path) = &args.config {
        return ServerSettings::from_file(path).map_err(|e| CliError::Other(e.to_string()));
    }
    let mut settings = ServerSettings::default();
    if let Some(listen) = args.listen {
        settings.listen = listen;
    }
    settings.storage = args.storage;
    settings.tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsSettings {
            cert,
            key,
            client_ca: args.tls_client_ca,
        }),
        (None, None) => None,
        _ => {
            return Err(CliError::Usage(
                "--tls-cert and --tls-key go together".into(),
            ));
        }
    };
    if args.dev {
        settings.dev = Some(DevSettings {
            root_token: args.dev_root_token,
        });
    }
    if args.log_json {
        settings.log_format = LogFormat::Json;
    }
    settings.profile = args.profile;
    settings
        .validate()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    Ok(settings)
}

/// Runs the server until it stops.
pub fn run(args: ServerArgs) -> Result<u8, CliError> {
    let settings = settings(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("yaoshi-server")
        .build()
        .map_err(|e| CliError::Other(format!("cannot start the async runtime: {e}")))?;
    runtime
        .block_on(yaoshi_server::run(settings))
        .map_err(|e| CliError::Other(format!("server: {e}")))?;
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<ServerSettings, CliError> {
        let cli = Cli::try_parse_from(args).map_err(|e| CliError::Usage(e.to_string()))?;
        match cli.command {
            Command::Server(a) => settings(a),
            _ => panic!("not server"),
        }
    }

    #[test]
    fn dev_flags() {
        let s = parse(&[
            "yaoshi",
            "server",
            "--dev",
            "--listen",
            "127.0.0.1:18200",
            "--dev-root-token",
            "root",
            "--log-json",
        ])
        .unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:18200");
        assert_eq!(s.dev.unwrap().root_token.as_deref(), Some("root"));
        assert_eq!(s.log_format, LogFormat::Json);
        assert!(s.storage.is_none());
    }

    #[test]
    fn production_flags() {
        let s = parse(&[
            "yaoshi",
            "server",
            "--storage",
            "sqlite:///tmp/y.db",
            "--tls-cert",
            "c.pem",
            "--tls-key",
            "k.pem",
            "--tls-client-ca",
            "ca.pem",
        ])
        .unwrap();
        assert_eq!(
            s.listen.to_string(),
            yaoshi_server::settings::DEFAULT_LISTEN
        );
        assert!(s.dev.is_none());
        let tls = s.tls.unwrap();
        assert_eq!(tls.client_ca.unwrap().to_str(), Some("ca.pem"));
    }

    #[test]
    fn refused_combinations() {
        // Outside dev mode a storage URL is required.
        assert!(parse(&["yaoshi", "server"]).is_err());
        // TLS halves, a dev token without --dev, --config with flags.
        assert!(parse(&["yaoshi", "server", "--dev", "--tls-cert", "c"]).is_err());
        assert!(
            parse(&[
                "yaoshi",
                "server",
                "--storage",
                "s",
                "--dev-root-token",
                "t"
            ])
            .is_err()
        );
        assert!(
            parse(&[
                "yaoshi",
                "server",
                "--config",
                "f",
                "--listen",
                "127.0.0.1:1"
            ])
            .is_err()
        );
    }

    #[test]
    fn config_file() {
        let dir = std::env::temp_dir().join(format!("yaoshi-server-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("server.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:18300\"\nstorage = \"sqlite::memory:\"\n",
        )
        .unwrap();
        let s = parse(&["yaoshi", "server", "--config", path.to_str().unwrap()]).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:18300");
        let missing = dir.join("missing.toml");
        assert!(parse(&["yaoshi", "server", "--config", missing.to_str().unwrap()]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
