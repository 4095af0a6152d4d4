//! `yaoshi server`: turns flags or a TOML file into `ServerSettings` and runs
//! the server on a multi-thread tokio runtime.

use crate::cli::ServerArgs;
use crate::error::{CliError, EXIT_OK};
use yaoshi_core::residency::BackupTarget;
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
    settings.residency.jurisdiction = args.jurisdiction;
    settings.residency.storage_locations = args.storage_location;
    settings.residency.backup_targets = args
        .backup_target
        .iter()
        .map(|t| backup_target(t))
        .collect::<Result<_, _>>()?;
    settings
        .validate()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    Ok(settings)
}

/// Parses `NAME=LOCATION[:DIR]`.
fn backup_target(text: &str) -> Result<BackupTarget, CliError> {
    let bad = || {
        CliError::Usage(format!(
            "--backup-target {text:?}: expected NAME=LOCATION or NAME=LOCATION:DIR"
        ))
    };
    let (name, rest) = text.split_once('=').ok_or_else(bad)?;
    let (location, path) = match rest.split_once(':') {
        Some((l, dir)) if !dir.is_empty() => (l, Some(dir.into())),
        Some(_) => return Err(bad()),
        None => (rest, None),
    };
    if name.is_empty() || location.is_empty() {
        return Err(bad());
    }
    Ok(BackupTarget {
        name: name.to_string(),
        location: location.to_string(),
        path,
    })
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
    fn residency_flags() {
        let s = parse(&[
            "yaoshi",
            "server",
            "--dev",
            "--jurisdiction",
            "CN",
            "--storage-location",
            "cn-shanghai-a",
            "--storage-location",
            "cn-beijing-b",
            "--backup-target",
            "nas=cn-shanghai-a:/var/backups/yaoshi",
            "--backup-target",
            "s3=us-east-1",
        ])
        .unwrap();
        let r = &s.residency;
        assert_eq!(r.jurisdiction.as_deref(), Some("CN"));
        assert_eq!(r.storage_locations, ["cn-shanghai-a", "cn-beijing-b"]);
        assert_eq!(r.backup_targets[0].name, "nas");
        assert_eq!(
            r.backup_targets[0].path.as_deref(),
            Some(std::path::Path::new("/var/backups/yaoshi"))
        );
        assert_eq!(r.backup_targets[1].location, "us-east-1");
        assert!(r.backup_targets[1].path.is_none());
        for bad in ["nas", "=cn-a", "nas=", "nas=cn-a:"] {
            assert!(
                parse(&["yaoshi", "server", "--dev", "--backup-target", bad]).is_err(),
                "{bad}"
            );
        }
        // a location outside the profile stops the server before it starts
        let e = parse(&[
            "yaoshi",
            "server",
            "--dev",
            "--profile",
            "gb39786-l2",
            "--storage-location",
            "us-east-1",
        ]);
        assert!(e.is_err());
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
        let pkcs11 = "[seal.pkcs11]\nmodule_path = \"/usr/lib/softhsm/libsofthsm2.so\"\n\
                      token_label = \"yaoshi\"\nkey_label = \"root-wrap\"\n";
        std::fs::write(&path, format!("storage = \"sqlite::memory:\"\n{pkcs11}")).unwrap();
        let s = parse(&["yaoshi", "server", "--config", path.to_str().unwrap()]).unwrap();
        let seal = s.seal.pkcs11.expect("[seal.pkcs11] read");
        assert_eq!(
            (seal.token_label.as_str(), seal.key_label.as_str()),
            ("yaoshi", "root-wrap")
        );
        // Dev mode keeps the root key in memory: no device seal with it.
        std::fs::write(&path, format!("[dev]\n{pkcs11}")).unwrap();
        let e = parse(&["yaoshi", "server", "--config", path.to_str().unwrap()]).unwrap_err();
        assert!(e.to_string().contains("device seal"), "{e}");
        let missing = dir.join("missing.toml");
        assert!(parse(&["yaoshi", "server", "--config", missing.to_str().unwrap()]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
