//! Where command data comes from: a literal argument, `@PATH` or `--file PATH`
//! for a file, `-` or nothing for standard input.

use crate::error::CliError;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

/// One place to read input from.
#[derive(Debug, PartialEq, Eq)]
pub enum Source {
    /// The argument's own bytes.
    Literal(String),
    /// A file.
    File(PathBuf),
    /// Standard input; `explicit` when asked for with `-`.
    Stdin {
        /// Whether `-` was given (then a terminal is read as well).
        explicit: bool,
    },
}

impl Source {
    /// Chooses the source from a positional argument and a `--file` option.
    pub fn choose(arg: Option<&str>, file: Option<&Path>) -> Self {
        match (arg, file) {
            (_, Some(path)) => Self::File(path.to_path_buf()),
            (Some("-"), None) => Self::Stdin { explicit: true },
            (Some(a), None) => match a.strip_prefix('@') {
                Some(path) => Self::File(PathBuf::from(path)),
                None => Self::Literal(a.to_string()),
            },
            (None, None) => Self::Stdin { explicit: false },
        }
    }

    /// Reads all bytes, taking standard input from `stdin`.
    /// `stdin_is_terminal` refuses an implicit read from an interactive
    /// terminal, which would otherwise wait silently.
    pub fn read_from(
        self,
        stdin: &mut dyn Read,
        stdin_is_terminal: bool,
    ) -> Result<Vec<u8>, CliError> {
        match self {
            Self::Literal(s) => Ok(s.into_bytes()),
            Self::File(path) => std::fs::read(&path)
                .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display()))),
            Self::Stdin { explicit } => {
                if !explicit && stdin_is_terminal {
                    return Err(CliError::Usage(
                        "no input: give it as an argument or @PATH, or pipe it on stdin \
                         (`-` reads the terminal)"
                            .into(),
                    ));
                }
                let mut buf = Vec::new();
                stdin
                    .read_to_end(&mut buf)
                    .map_err(|e| CliError::Other(format!("cannot read stdin: {e}")))?;
                Ok(buf)
            }
        }
    }

    /// Reads all bytes, standard input being the process's.
    pub fn read(self) -> Result<Vec<u8>, CliError> {
        let stdin = std::io::stdin();
        let terminal = stdin.is_terminal();
        self.read_from(&mut stdin.lock(), terminal)
    }
}

/// Raw bytes (plaintexts, data to sign), exactly as given.
pub fn read_bytes(arg: Option<&str>, file: Option<&Path>) -> Result<Vec<u8>, CliError> {
    Source::choose(arg, file).read()
}

/// Text tokens (ciphertexts, signatures, unseal keys): UTF-8, surrounding
/// whitespace (a trailing newline from a file or `echo`) removed.
pub fn read_token(arg: Option<&str>, file: Option<&Path>) -> Result<String, CliError> {
    text_token(Source::choose(arg, file).read()?)
}

/// Turns bytes read for a text token into the token.
pub fn text_token(bytes: Vec<u8>) -> Result<String, CliError> {
    let s = String::from_utf8(bytes)
        .map_err(|_| CliError::Usage("input is not valid UTF-8 text".into()))?;
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return Err(CliError::Usage("input is empty".into()));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn read(
        arg: Option<&str>,
        file: Option<&Path>,
        stdin: &[u8],
        tty: bool,
    ) -> Result<Vec<u8>, CliError> {
        Source::choose(arg, file).read_from(&mut Cursor::new(stdin.to_vec()), tty)
    }

    #[test]
    fn literal_argument() {
        assert_eq!(
            read(Some("hello"), None, b"ignored", false).unwrap(),
            b"hello"
        );
    }

    #[test]
    fn file_by_at_or_flag() {
        let dir = std::env::temp_dir().join(format!("yaoshi-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data.bin");
        std::fs::write(&path, [0u8, 1, 2, 255]).unwrap();
        let at = format!("@{}", path.display());
        assert_eq!(read(Some(&at), None, b"", false).unwrap(), [0, 1, 2, 255]);
        assert_eq!(read(None, Some(&path), b"", false).unwrap(), [0, 1, 2, 255]);
        let missing = dir.join("missing");
        let err = read(None, Some(&missing), b"", false).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("missing"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn stdin_by_dash_or_nothing() {
        assert_eq!(
            read(Some("-"), None, b"piped\n", false).unwrap(),
            b"piped\n"
        );
        assert_eq!(read(None, None, b"piped", false).unwrap(), b"piped");
        // An explicit `-` reads even a terminal; an implicit read refuses.
        assert_eq!(read(Some("-"), None, b"typed", true).unwrap(), b"typed");
        let err = read(None, None, b"typed", true).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn tokens_are_trimmed_text() {
        assert_eq!(
            text_token(b"vault:v1:abc\n".to_vec()).unwrap(),
            "vault:v1:abc"
        );
        assert!(text_token(b"  \n".to_vec()).is_err());
        assert!(text_token(vec![0xff, 0xfe]).is_err());
    }
}
