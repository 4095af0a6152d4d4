//! `yaoshi bench crypto --openssl`: the reference figures from the
//! `openssl speed` CLI, measured in the same run right after yaoshi's, for
//! side-by-side figures and yaoshi/OpenSSL ratios (issue 7's targets: SM4-GCM
//! against OpenSSL's SM4-CTR, SM3, SM2 sign and verify).
//!
//! `openssl speed` runs with `-elapsed` (wall-clock time, as yaoshi's own
//! loop measures) and 16 KiB messages for throughput.

use crate::bench::{Figure, MESSAGE_LEN};
use std::process::Command;

/// What OpenSSL measures for one yaoshi figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reference {
    /// `openssl speed -evp NAME`, MB/s.
    Evp(&'static str),
    /// `openssl speed sm2`: sign/s (`false`) or verify/s (`true`).
    Sm2 { verify: bool },
}

/// The compared figures: yaoshi's key and OpenSSL's counterpart.
const COMPARED: [(&str, Reference); 6] = [
    ("sm4-gcm96.encrypt_mb_s", Reference::Evp("sm4-ctr")),
    ("sm4-ctr.encrypt_mb_s", Reference::Evp("sm4-ctr")),
    ("sm3.hash_mb_s", Reference::Evp("sm3")),
    ("aes256-gcm96.encrypt_mb_s", Reference::Evp("aes-256-gcm")),
    ("sm2.sign_ops_s", Reference::Sm2 { verify: false }),
    ("sm2.verify_ops_s", Reference::Sm2 { verify: true }),
];

/// One yaoshi figure beside OpenSSL's.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// yaoshi's figure key.
    pub key: &'static str,
    /// What OpenSSL ran (`sm4-ctr`, `sm2 verify`, ...).
    pub reference: String,
    /// yaoshi's value.
    pub yaoshi: f64,
    /// OpenSSL's value, same unit.
    pub openssl: f64,
}

impl Comparison {
    /// yaoshi / OpenSSL.
    pub fn ratio(&self) -> f64 {
        self.yaoshi / self.openssl
    }
}

fn speed(args: &[String]) -> Result<String, String> {
    let out = Command::new("openssl")
        .arg("speed")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run openssl: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "openssl speed {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// MB/s from `openssl speed -evp NAME -bytes 16384` output (`NAME  12345.67k`,
/// in 1000s of bytes per second).
fn parse_evp(text: &str, name: &str) -> Option<f64> {
    text.lines().rev().find_map(|line| {
        let mut words = line.split_whitespace();
        let label = words.next()?;
        let value = words.last()?.strip_suffix('k')?;
        label
            .eq_ignore_ascii_case(name)
            .then(|| value.parse::<f64>().ok().map(|k| k * 1000.0 / 1e6))?
    })
}

/// (sign/s, verify/s) from `openssl speed sm2` output.
fn parse_sm2(text: &str) -> Option<(f64, f64)> {
    let line = text.lines().find(|l| l.contains("SM2"))?;
    let numbers: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    match numbers.as_slice() {
        [.., sign, verify] => Some((*sign, *verify)),
        _ => None,
    }
}

/// Runs the references for about `seconds` each and pairs them with
/// `figures`.
pub fn compare(figures: &[Figure], seconds: f64) -> Result<Vec<Comparison>, String> {
    let secs = (seconds.ceil() as u64).max(1).to_string();
    let mut sm2: Option<(f64, f64)> = None;
    let mut out = Vec::new();
    for (key, reference) in COMPARED {
        let Some(yaoshi) = figures.iter().find(|f| f.key == key).map(|f| f.value) else {
            continue;
        };
        let (label, openssl) = match reference {
            Reference::Evp(name) => {
                let bytes = MESSAGE_LEN.to_string();
                let args = [
                    "-elapsed", "-seconds", &secs, "-bytes", &bytes, "-evp", name,
                ];
                let text = speed(&args.map(String::from))?;
                let value = parse_evp(&text, name)
                    .ok_or_else(|| format!("cannot read openssl speed's figure for {name}"))?;
                (name.to_string(), value)
            }
            Reference::Sm2 { verify } => {
                if sm2.is_none() {
                    let args = ["-elapsed", "-seconds", &secs, "sm2"];
                    let text = speed(&args.map(String::from))?;
                    sm2 = Some(parse_sm2(&text).ok_or("cannot read openssl speed's SM2 figures")?);
                }
                let (sign, check) = sm2.unwrap_or_default();
                if verify {
                    ("sm2 verify".to_string(), check)
                } else {
                    ("sm2 sign".to_string(), sign)
                }
            }
        };
        out.push(Comparison {
            key,
            reference: label,
            yaoshi,
            openssl,
        });
    }
    Ok(out)
}

/// The OpenSSL version line (`OpenSSL 3.0.19 ...`), for the table heading.
pub fn version() -> String {
    Command::new("openssl")
        .arg("version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "openssl".into())
}

/// A side-by-side table.
pub fn to_table(comparisons: &[Comparison]) -> String {
    let mut out = format!(
        "\nagainst {} (openssl speed -elapsed, same run)\n",
        version()
    );
    out.push_str(&format!(
        "{:<28} {:<14} {:>12} {:>12} {:>8}\n",
        "yaoshi figure", "openssl", "yaoshi", "openssl", "ratio"
    ));
    for c in comparisons {
        out.push_str(&format!(
            "{:<28} {:<14} {:>12.1} {:>12.1} {:>7.2}x\n",
            c.key,
            c.reference,
            c.yaoshi,
            c.openssl,
            c.ratio()
        ));
    }
    out
}

/// JSON fields `openssl.KEY` and `vs_openssl.KEY` to add to the figures.
pub fn json_fields(comparisons: &[Comparison]) -> Vec<(String, serde_json::Value)> {
    let round = |v: f64| serde_json::json!((v * 100.0).round() / 100.0);
    comparisons
        .iter()
        .flat_map(|c| {
            [
                (format!("openssl.{}", c.key), round(c.openssl)),
                (format!("vs_openssl.{}", c.key), round(c.ratio())),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_openssl_speed_output() {
        let evp = "The 'numbers' are in 1000s of bytes per second processed.\n\
                   type          16384 bytes\nSM4-CTR          74383.36k\n";
        assert_eq!(parse_evp(evp, "sm4-ctr"), Some(74.38336));
        assert_eq!(
            parse_evp("sm3             120258.56k\n", "sm3"),
            Some(120.25856)
        );
        assert_eq!(parse_evp(evp, "sm3"), None);
        let sm2 = "                              sign    verify    sign/s verify/s\n \
                   256 bits SM2 (CurveSM2)   0.0008s   0.0007s   1315.0   1437.0\n";
        assert_eq!(parse_sm2(sm2), Some((1315.0, 1437.0)));
        assert_eq!(parse_sm2("no figures"), None);
    }

    #[test]
    fn measures_with_the_real_openssl() {
        let figures = vec![
            Figure {
                key: "sm3.hash_mb_s".into(),
                value: 100.0,
            },
            Figure {
                key: "sm2.verify_ops_s".into(),
                value: 1000.0,
            },
        ];
        let got = compare(&figures, 0.05).expect("openssl speed runs");
        assert_eq!(got.len(), 2);
        for c in &got {
            assert!(c.openssl > 0.0 && c.ratio() > 0.0, "{c:?}");
        }
        assert_eq!(got[1].reference, "sm2 verify");
        let fields = json_fields(&got);
        assert!(fields.iter().any(|(k, _)| k == "vs_openssl.sm3.hash_mb_s"));
    }
}
