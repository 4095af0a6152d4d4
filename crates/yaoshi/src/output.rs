//! Printing results: `--json` prints one JSON value, text mode prints plain
//! lines or a two-column table like `bao`.

use crate::error::CliError;
use serde_json::{Map, Value};
use std::io::Write;

/// Writes bytes to stdout; a closed pipe ends the output quietly.
pub fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Other(format!("cannot write to stdout: {e}"))),
    }
}

/// Prints one line.
pub fn line(text: &str) -> Result<(), CliError> {
    write_stdout(format!("{text}\n").as_bytes())
}

/// Prints a JSON value, pretty, followed by a newline.
pub fn json(value: &Value) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::Other(format!("cannot format JSON: {e}")))?;
    line(&text)
}

/// How a JSON value reads in a table cell: strings bare, `null` as `n/a`,
/// lists of strings comma-separated, anything else compact JSON.
pub fn cell(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "n/a".into(),
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

/// Formats rows as a `Key`/`Value` table.
pub fn table(rows: &[(String, String)]) -> String {
    let width = rows
        .iter()
        .map(|(k, _)| k.len())
        .chain([3])
        .max()
        .unwrap_or(3);
    let mut out = format!("{:width$}    Value\n{:width$}    -----\n", "Key", "---");
    for (k, v) in rows {
        out.push_str(&format!("{k:width$}    {v}\n"));
    }
    out
}

/// Prints a JSON object as a table, keys sorted.
pub fn object_table(map: &Map<String, Value>) -> Result<(), CliError> {
    let mut rows: Vec<(String, String)> = map.iter().map(|(k, v)| (k.clone(), cell(v))).collect();
    rows.sort();
    write_stdout(table(&rows).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells() {
        assert_eq!(cell(&json!("x")), "x");
        assert_eq!(cell(&json!(null)), "n/a");
        assert_eq!(cell(&json!(["a", "b"])), "a,b");
        assert_eq!(cell(&json!(3)), "3");
        assert_eq!(cell(&json!({"1": 2})), "{\"1\":2}");
    }

    #[test]
    fn table_aligns() {
        let t = table(&[
            ("name".into(), "k".into()),
            ("latest_version".into(), "2".into()),
        ]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "Key               Value");
        assert_eq!(lines[2], "name              k");
        assert_eq!(lines[3], "latest_version    2");
    }
}
