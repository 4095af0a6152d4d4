//! Errors of the HTTP commands and the exit codes they map to. Messages never
//! carry tokens, keys or plaintexts.

use std::fmt;

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code for failures other than usage and 4xx answers.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for usage errors, 4xx answers and a sealed `operator status`.
pub const EXIT_USAGE: u8 = 2;
/// Exit code of `verify` for an invalid signature.
pub const EXIT_INVALID: u8 = 3;

/// Why a command failed.
#[derive(Debug, PartialEq, Eq)]
pub enum CliError {
    /// The server answered with an error status.
    Api {
        /// HTTP status code.
        status: u16,
        /// The server's messages (from `{"errors": [...]}` or the body text).
        messages: Vec<String>,
    },
    /// The server could not be reached.
    Connect {
        /// The address tried.
        addr: String,
        /// What went wrong.
        detail: String,
    },
    /// Arguments or input the command cannot use.
    Usage(String),
    /// Anything else (I/O, unexpected answers, server start-up).
    Other(String),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Api { status, .. } if (400..500).contains(status) => EXIT_USAGE,
            Self::Usage(_) => EXIT_USAGE,
            Self::Api { .. } | Self::Connect { .. } | Self::Other(_) => EXIT_FAILURE,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Api { status, messages } if messages.is_empty() => write!(f, "{status}"),
            Self::Api { status, messages } => write!(f, "{status}: {}", messages.join("; ")),
            Self::Connect { addr, detail } => write!(
                f,
                "cannot connect to {addr}: {detail} (is the server running? \
                 set --addr or YAOSHI_ADDR)"
            ),
            Self::Usage(m) | Self::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CliError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        let api = |status| CliError::Api {
            status,
            messages: vec![],
        };
        assert_eq!(api(400).exit_code(), 2);
        assert_eq!(api(403).exit_code(), 2);
        assert_eq!(api(499).exit_code(), 2);
        assert_eq!(api(500).exit_code(), 1);
        assert_eq!(api(503).exit_code(), 1);
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
        assert_eq!(CliError::Other("x".into()).exit_code(), 1);
        let connect = CliError::Connect {
            addr: "http://127.0.0.1:1".into(),
            detail: "connection refused".into(),
        };
        assert_eq!(connect.exit_code(), 1);
        assert!(connect.to_string().contains("http://127.0.0.1:1"));
    }

    #[test]
    fn api_display_joins_messages() {
        let e = CliError::Api {
            status: 400,
            messages: vec!["a".into(), "b".into()],
        };
        assert_eq!(e.to_string(), "400: a; b");
    }
}
