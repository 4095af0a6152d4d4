//! Request parameters with Vault's coercions.
//!
//! Vault decodes request data into a field schema leniently: `"true"` is a
//! boolean, `"-1"` an integer, a JSON `null` body is no data, a duration may
//! be `"24h"` or a number of seconds, and parameters the endpoint does not
//! know are ignored but reported back as a warning. [`Params`] does the same
//! for one JSON object; each endpoint declares its known field names.

use crate::wire::ApiError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

/// The parameters of one request (or one batch item).
#[derive(Debug, Clone, Default)]
pub struct Params {
    fields: Map<String, Value>,
}

impl Params {
    /// Parameters from a decoded JSON object.
    pub fn new(fields: Map<String, Value>) -> Self {
        Self { fields }
    }

    /// Parameters from a request body: empty, `null` or a JSON object.
    pub fn from_body(body: &[u8]) -> Result<Self, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Null) => Ok(Self::default()),
            Ok(Value::Object(fields)) => Ok(Self { fields }),
            Ok(_) => Err(ApiError::bad_request(
                "failed to decode JSON input: the body must be a JSON object",
            )),
            Err(e) => Err(ApiError::bad_request(format!(
                "failed to decode JSON input: {e}"
            ))),
        }
    }

    /// Every parameter, by name.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// Adds query-string parameters (GET requests); body fields win.
    pub fn merge_query(&mut self, query: &str) {
        for (name, value) in form_pairs(query) {
            if name == "list" {
                continue;
            }
            self.fields.entry(name).or_insert(Value::String(value));
        }
    }

    /// Sets a parameter taken from the path (`encrypt/:name` style suffixes).
    pub fn set_from_path(&mut self, name: &str, value: &str) {
        self.fields
            .insert(name.to_string(), Value::String(value.to_string()));
    }

    /// Names that are not in `known`, sorted (Vault's warning lists them).
    pub fn unknown(&self, known: &[&str]) -> Vec<String> {
        let mut names: Vec<String> = self
            .fields
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .cloned()
            .collect();
        names.sort();
        names
    }

    /// Whether the parameter is present and not `null`.
    pub fn has(&self, name: &str) -> bool {
        self.fields.get(name).is_some_and(|v| !v.is_null())
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name).filter(|v| !v.is_null())
    }

    /// A string parameter; numbers and booleans are turned into text.
    pub fn str(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(type_error(name, "string")),
        }
    }

    /// A string parameter with a default.
    pub fn str_or(&self, name: &str, default: &str) -> Result<String, ApiError> {
        Ok(self.str(name)?.unwrap_or_else(|| default.to_string()))
    }

    /// A boolean; accepts `true`/`false`, `"true"`/`"false"`, `"1"`/`"0"`, 0/1.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                "true" | "1" | "t" => Ok(Some(true)),
                "false" | "0" | "f" | "" => Ok(Some(false)),
                _ => Err(type_error(name, "bool")),
            },
            Some(Value::Number(n)) => match n.as_i64() {
                Some(0) => Ok(Some(false)),
                Some(1) => Ok(Some(true)),
                _ => Err(type_error(name, "bool")),
            },
            Some(_) => Err(type_error(name, "bool")),
        }
    }

    /// A boolean with a default.
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        Ok(self.bool(name)?.unwrap_or(false))
    }

    /// An integer; accepts JSON numbers without fraction and numeric strings.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                        .map(|f| f as i64)
                })
                .map(Some)
                .ok_or_else(|| type_error(name, "int")),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| type_error(name, "int")),
            Some(_) => Err(type_error(name, "int")),
        }
    }

    /// A duration in seconds: a number, `"3600"`, or Go-style `"1h30m"`.
    pub fn duration_secs(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| type_error(name, "duration")),
            Some(Value::String(s)) => parse_duration(s)
                .map(Some)
                .ok_or_else(|| type_error(name, "duration")),
            Some(_) => Err(type_error(name, "duration")),
        }
    }

    /// Standard base64 data (Vault's `plaintext`, `input`, `context`).
    pub fn base64(&self, name: &str) -> Result<Option<Vec<u8>>, ApiError> {
        match self.str(name)? {
            None => Ok(None),
            Some(s) => decode_base64(&s)
                .map(Some)
                .ok_or_else(|| ApiError::bad_request(format!("failed to base64-decode {name}"))),
        }
    }

    /// A list of strings: a JSON array of strings or one comma-separated string.
    pub fn str_list(&self, name: &str) -> Result<Option<Vec<String>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(Some(Vec::new())),
            Some(Value::String(s)) => {
                Ok(Some(s.split(',').map(|p| p.trim().to_string()).collect()))
            }
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(type_error(name, "list of strings")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(type_error(name, "list of strings")),
        }
    }

    /// A map of strings (Vault's `labels`-style fields).
    pub fn str_map(
        &self,
        name: &str,
    ) -> Result<Option<std::collections::BTreeMap<String, String>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(type_error(name, "map of strings")),
                })
                .collect::<Result<_, _>>()
                .map(Some),
            Some(_) => Err(type_error(name, "map of strings")),
        }
    }

    /// `batch_input`: a list of objects, each becoming its own [`Params`].
    pub fn batch(&self, name: &str) -> Result<Option<Vec<Params>>, ApiError> {
        let items = match self.get(name) {
            None => return Ok(None),
            Some(Value::Array(items)) => items,
            Some(Value::String(s)) => {
                // Vault accepts batch_input as a JSON string too.
                let parsed: Value =
                    serde_json::from_str(s).map_err(|_| type_error(name, "list of objects"))?;
                return Params::new(Map::from_iter([(name.to_string(), parsed)])).batch(name);
            }
            Some(_) => return Err(type_error(name, "list of objects")),
        };
        if items.is_empty() {
            return Err(ApiError::bad_request("missing batch input to process"));
        }
        items
            .iter()
            .map(|v| match v {
                Value::Object(m) => Ok(Params::new(m.clone())),
                _ => Err(type_error(name, "list of objects")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// The raw value (for echoing `reference`).
    pub fn raw(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }
}

fn type_error(name: &str, expected: &str) -> ApiError {
    ApiError::bad_request(format!(
        "error converting input for field {name:?}: expected {expected}"
    ))
}

/// Decodes standard base64, tolerating missing padding and surrounding
/// spaces. Wrong padding is refused: `"===="` is not the empty string and
/// `"aGk=="` is not `"hi"`.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    STANDARD.decode(s).ok().or_else(|| {
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(s)
            .ok()
    })
}

/// Parses Go-style durations (`90`, `90s`, `1h30m`, `7d` is not Go but common).
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() {
        return Some(0);
    }
    if let Ok(secs) = text.parse::<u64>() {
        return Some(secs);
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    let mut chars = text.chars().peekable();
    let mut saw_unit = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                0
            }
            'm' => 60,
            's' => 1,
            'd' => 86400,
            _ => return None,
        };
        let value: u64 = number.parse().ok()?;
        number.clear();
        saw_unit = true;
        total = total.checked_add(value.checked_mul(unit)?)?;
    }
    (number.is_empty() && saw_unit).then_some(total)
}

/// Splits an `application/x-www-form-urlencoded` query string.
fn form_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Decodes a query-string component: `%XX` escapes and `+` as space;
/// invalid escapes stay as they are, invalid UTF-8 becomes U+FFFD.
pub fn percent_decode(s: &str) -> String {
    String::from_utf8_lossy(&unescape(s, true)).into_owned()
}

/// Decodes one URL path segment: `%XX` escapes only (`+` is a plus sign in
/// paths); `None` when the result is not UTF-8, so distinct byte strings
/// never collapse into one key name.
pub fn decode_path_segment(s: &str) -> Option<String> {
    String::from_utf8(unescape(s, false)).ok()
}

fn unescape(s: &str, plus_as_space: bool) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_as_space => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        out.push(hi << 4 | lo);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn hex_value(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> Params {
        match v {
            Value::Object(m) => Params::new(m),
            _ => unreachable!("test builds objects"),
        }
    }

    #[test]
    fn scalars_are_coerced_like_vault() {
        let p = params(json!({"a": "true", "b": "-1", "c": 5, "d": "0", "e": 1.0, "f": null}));
        assert_eq!(p.bool("a").unwrap(), Some(true));
        assert_eq!(p.int("b").unwrap(), Some(-1));
        assert_eq!(p.int("c").unwrap(), Some(5));
        assert_eq!(p.bool("d").unwrap(), Some(false));
        assert_eq!(p.int("e").unwrap(), Some(1));
        assert_eq!(p.int("f").unwrap(), None, "null is absent");
        assert_eq!(p.str("c").unwrap().as_deref(), Some("5"));
        assert!(p.bool("b").is_err());
        assert!(p.int("a").is_err());
    }

    #[test]
    fn bodies_may_be_empty_null_or_objects_only() {
        assert!(!Params::from_body(b"").unwrap().has("x"));
        assert!(!Params::from_body(b"null").unwrap().has("x"));
        assert!(Params::from_body(br#"{"x":1}"#).unwrap().has("x"));
        for bad in [&b"[1]"[..], b"\"s\"", b"{", b"\xff\xfe"] {
            let e = Params::from_body(bad).unwrap_err();
            assert_eq!(e.status, 400);
            assert!(e.errors[0].contains("failed to decode JSON input"));
        }
    }

    #[test]
    fn unknown_fields_are_listed_sorted() {
        let p = params(json!({"z": 1, "plaintext": "", "a": 2}));
        assert_eq!(p.unknown(&["plaintext"]), vec!["a", "z"]);
    }

    #[test]
    fn durations_parse_go_style() {
        assert_eq!(parse_duration("3600"), Some(3600));
        assert_eq!(parse_duration("1h30m"), Some(5400));
        assert_eq!(parse_duration("24h"), Some(86400));
        assert_eq!(parse_duration("10s"), Some(10));
        assert_eq!(parse_duration(""), Some(0));
        assert_eq!(parse_duration("1x"), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration("99999999999999999999h"), None);
    }

    #[test]
    fn base64_and_batches() {
        let p = params(
            json!({"x": "aGk=", "y": "aGk", "z": "!!", "batch_input": [{"a": 1}], "b2": []}),
        );
        assert_eq!(p.base64("x").unwrap().unwrap(), b"hi");
        assert_eq!(p.base64("y").unwrap().unwrap(), b"hi");
        assert!(p.base64("z").is_err());
        for bad in ["====", "=", "aGk==", "aGk===", "aG=k"] {
            assert!(decode_base64(bad).is_none(), "{bad:?}");
        }
        assert_eq!(decode_base64(" aGk= ").unwrap(), b"hi");
        assert_eq!(decode_base64("").unwrap(), b"");
        assert_eq!(p.batch("batch_input").unwrap().unwrap().len(), 1);
        assert!(p.batch("b2").is_err());
        assert!(params(json!({"b": [1]})).batch("b").is_err());
    }

    #[test]
    fn query_strings_decode() {
        let mut p = Params::default();
        p.merge_query("format=hex&list=true&x=a%2Fb+c&bad=%zz");
        assert_eq!(p.str("format").unwrap().as_deref(), Some("hex"));
        assert!(!p.has("list"));
        assert_eq!(p.str("x").unwrap().as_deref(), Some("a/b c"));
        assert_eq!(p.str("bad").unwrap().as_deref(), Some("%zz"));
    }
}
